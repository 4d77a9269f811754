"""The HTTP routes, one module per group, each with its ``APIRouter`` that ``create_app`` includes.

Questions: ``ask``, ``stream``, ``search``, ``chat`` (OpenAI's format) and ``mcp`` (agents); operations:
``health``, ``metrics``, ``admin``; pages: ``widget`` and ``api_docs``.
"""
