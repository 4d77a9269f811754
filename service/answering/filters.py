"""Which documents a question may be answered from: by path prefix, company and period."""

from __future__ import annotations

from dataclasses import dataclass

from indexer.errors import InputError
from indexer.index_files import DocumentRecord
from indexer.metadata import company_key, period_key

DOC_PREFIX = "search only documents whose doc_id (path in the corpus) starts with this, e.g. 'filings/2024/'"
COMPANY = "search only documents of this company, compared without case, spaces or punctuation ('Best Buy' = 'BESTBUY')"
PERIOD = (
    "search only documents of this period or one within it: '2023' takes 2023, 2023Q2, 2023H1; "
    "also 'FY2023', 'FY23', '2023Q2'"
)
MAX_DOC_PREFIX = 1000
MAX_COMPANY = 200
MAX_PERIOD = 20


@dataclass(frozen=True)
class DocumentFilter:
    """Empty fields do not filter; a document must match every field given."""

    doc_prefix: str | None = None
    company: str | None = None
    period: str | None = None

    def __post_init__(self) -> None:
        """Check the fields and keep the period in its stored spelling; ``ValueError`` on bad ones."""
        if self.company:
            checked_company(self.company)
        if self.period:
            object.__setattr__(self, "period", checked_period(self.period))

    def __bool__(self) -> bool:
        return bool(self.doc_prefix or self.company or self.period)

    @property
    def described(self) -> str:
        """``company=Acme Corp, period=2022``: the fields given, as a user wrote them."""
        fields = (("doc_prefix", self.doc_prefix), ("company", self.company), ("period", self.period))
        return ", ".join(f"{name}={value}" for name, value in fields if value)

    def matches(self, document: DocumentRecord) -> bool:
        """Whether ``document`` matches every field given."""
        return (
            (not self.doc_prefix or document.doc_id.startswith(self.doc_prefix))
            and (not self.company or company_key(document.company) == company_key(self.company))
            and (not self.period or document.period.startswith(self.period))
        )


def checked_company(value: str) -> str:
    """``value`` when it can name a company (it holds a letter or digit); ``InputError`` otherwise."""
    if not company_key(value):
        raise InputError("must contain a letter or digit")
    return value


def checked_period(value: str) -> str:
    """``value`` in the one spelling periods are stored in; ``InputError`` saying what is accepted."""
    period = period_key(value)
    if period is None:
        raise InputError("must be a year with an optional quarter or half: 2023, FY2023, FY23, 2023Q2, 2023H1")
    return period
