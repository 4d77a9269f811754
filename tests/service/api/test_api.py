"""The HTTP contract in-process: validation, readiness, response shape."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from indexer.build import Indexer, IndexReport
from indexer.embedder import Embedder
from indexer.index_files import write_index
from indexer.location import IndexLocation
from service.answering.qa import QuestionAnswering
from service.api.app import create_app
from service.config import Settings
from tests.support import answering_of

# The app over the model and indexes built with it.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client(qa: QuestionAnswering) -> Iterator[TestClient]:
    with TestClient(create_app(qa.settings, qa)) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"question": ""}, "must not be empty"),
        ({"question": "   \n\t "}, "must not be empty"),
        ({"question": "\u200b\ufeff "}, "must not be empty"),  # zero-width space, byte-order mark
        ({"question": "x" * 10_000}, "at most 2000 characters"),
        ({"question": 42}, "valid string"),
        ({"question": ["a"]}, "valid string"),
        ({}, "Field required"),
        ({"question": "Who?", "top_k": 0}, "greater than or equal to 1"),
        ({"question": "Who?", "top_k": 21}, "less than or equal to 20"),
        ({"question": "Who?", "top_k": "5"}, "valid integer"),
        ({"question": "Who?", "top_k": 2.5}, "valid integer"),
        ({"question": "Who?", "unknown": 1}, "Extra inputs are not permitted"),
    ],
)
def test_bad_ask_bodies_get_422_with_a_clear_detail(client: TestClient, body: dict[str, object], needle: str) -> None:
    response = client.post("/ask", json=body)
    assert response.status_code == 422
    assert needle in str(response.json()["detail"])


@pytest.mark.parametrize("raw", [b"{not json", b"", b"null", b'"just a string"'])
def test_invalid_json_gets_422(client: TestClient, raw: bytes) -> None:
    response = client.post("/ask", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"]


@pytest.mark.parametrize("query", ["q=&k=5", "q=%20%20", "q=ok&k=0", "q=ok&k=21", "q=ok&k=abc", "k=5"])
def test_bad_search_parameters_get_422(client: TestClient, query: str) -> None:
    response = client.get(f"/search?{query}")
    assert response.status_code == 422
    # One shape for every invalid parameter: a list of problems, each naming its parameter.
    problems = response.json()["detail"]
    assert isinstance(problems, list) and problems[0]["loc"][0] == "query" and problems[0]["msg"]


def test_search_returns_passages_best_first_with_their_markers(client: TestClient) -> None:
    response = client.get("/search", params={"q": "Which clients ended their cooperation with Scale AI?", "k": 3})
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == 3
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)
    assert "xAI terminated their cooperation" in results[0]["text"]
    assert {"[3]", "[8]"} <= set(results[0]["markers"])
    assert set(results[0]) == {"doc_id", "title", "chunk_id", "text", "score", "markers"}


def test_top_k_limits_the_sources(client: TestClient) -> None:
    body = client.post("/ask", json={"question": "What can Scale AI's platform help Meta build?", "top_k": 1}).json()
    assert len(body["sources"]) == 1


def test_not_ready_until_the_index_is_loaded(qa: QuestionAnswering) -> None:
    app = create_app(qa.settings, QuestionAnswering(qa.settings, embedder=qa.embedder))
    # Before the lifespan runs nothing is loaded: questions get 503, not a crash or an empty answer.
    early = TestClient(app)
    assert early.get("/livez").status_code == 200
    assert early.get("/readyz").status_code == 503
    assert early.post("/ask", json={"question": "Who leads the lab?"}).status_code == 503
    assert early.get("/search", params={"q": "lab"}).status_code == 503
    assert early.post("/ask/stream", json={"question": "Who leads the lab?"}).status_code == 503
    chat = {"model": "m", "messages": [{"role": "user", "content": "Who leads the lab?"}]}
    assert early.post("/v1/chat/completions", json=chat).status_code == 503
    with TestClient(app) as client:
        deadline = time.monotonic() + 60
        while client.get("/readyz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["documents"] == 1
        assert client.post("/ask", json={"question": "Who leads the lab?"}).status_code == 200


def test_a_missing_index_keeps_readyz_at_503_with_the_reason(tmp_path: Path, embedder: Embedder) -> None:
    settings = Settings(index_dir=tmp_path / "nowhere")
    with TestClient(create_app(settings, QuestionAnswering(settings, embedder=embedder))) as client:
        deadline = time.monotonic() + 30
        while client.get("/readyz").json()["status"] == "loading" and time.monotonic() < deadline:
            time.sleep(0.05)
        response = client.get("/readyz")
        assert response.status_code == 503
        assert f"build it with `citeqa index CORPUS --index-dir {settings.index_dir}`" in response.json()["detail"]
        ask = client.post("/ask", json={"question": "Anything?"})
        assert ask.status_code == 503 and "citeqa index" in ask.json()["detail"]


def test_doc_prefix_filters_search_and_ask(client: TestClient) -> None:
    results = client.get("/search", params={"q": "Scale AI", "doc_prefix": "meta-"}).json()["results"]
    assert results and all(r["doc_id"].startswith("meta-") for r in results)
    assert client.get("/search", params={"q": "Scale AI", "doc_prefix": "other/"}).json() == {"results": []}
    nothing = client.post(
        "/ask", json={"question": "How much did Meta pay for its stake in Scale AI?", "doc_prefix": "other/"}
    )
    assert nothing.status_code == 200 and nothing.json()["abstained"] is True and nothing.json()["sources"] == []
    assert client.post("/ask", json={"question": "Who?", "doc_prefix": ""}).status_code == 422


@pytest.fixture(scope="module")
def filings_client(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[TestClient]:
    """Three reports on one topic, their company and year in the file names."""
    from indexer.build import Indexer

    folder = tmp_path_factory.mktemp("filings")
    corpus = folder / "corpus"
    corpus.mkdir()
    reports = {
        "acme_2023_annual.txt": "Revenue grew 4% as demand for cloud storage rose [1].",
        "acme_2024_annual.txt": "Revenue grew 9% as demand for cloud storage rose [2].",
        "globex_2024_annual.txt": "Revenue grew 6% as demand for cloud storage rose [3].",
    }
    for name, text in reports.items():
        (corpus / name).write_text(text, encoding="utf-8")
    Indexer(embedder, progress=False).run(corpus, folder / "index")
    pipeline = QuestionAnswering(Settings(index_dir=folder / "index"), embedder=embedder)
    pipeline.warm_up()
    with TestClient(create_app(pipeline.settings, pipeline)) as test_client:
        yield test_client


def test_a_question_about_a_party_its_passage_only_mentions_is_not_answered(
    tmp_path: Path, embedder: Embedder
) -> None:
    from indexer.build import Indexer

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    # Each paragraph one claim under one marker group, naming parties beside the one it is about; the
    # filing's sentences say "we", and its file name says who.
    (corpus / "deal-report.txt").write_text(
        "Orbis and Nimbus\n\nIn June, Orbis bought a 49% stake in Nimbus for about $9.6 billion. After the "
        "deal, Nimbus will keep operating on its own, but its work with clients like Vertex and Helio is in "
        "doubt [1][2].\n\nNimbus labels training data for model makers, and its founder will join Orbis to "
        "run a new research lab [3].\n\nRegulators may still look at the deal, although minority stakes "
        "rarely get a full review [4].\n",
        encoding="utf-8",
    )
    (corpus / "acme_2024_annual.txt").write_text(
        "We acquired a 30% stake in Globex for $2.5 billion. After the deal, clients such as Initech and Hooli "
        "may stop buying from Globex [1].",
        encoding="utf-8",
    )
    (corpus / "BESTBUY_2023_10K.txt").write_text("We closed 20 stores in 2023 as customers bought online [1].", "utf-8")
    (corpus / "meta-superintelligence-lab.txt").write_text("Meta hired a founder to lead its new lab [1].", "utf-8")
    Indexer(embedder, progress=False).run(corpus, tmp_path / "index")
    pipeline = QuestionAnswering(Settings(index_dir=tmp_path / "index"), embedder=embedder)
    pipeline.warm_up()
    with TestClient(create_app(pipeline.settings, pipeline)) as client:

        def ask(question: str) -> dict[str, object]:
            response = client.post("/ask", json={"question": question})
            assert response.status_code == 200
            return response.json()

        answered = {
            "Who will run Orbis's new research lab?": "[3].",
            "What stake in Globex did Acme acquire?": "$2.5 billion [1].",  # Acme: the file name
            "How many stores did Best Buy close in 2023?": "20 stores",  # Best Buy: BESTBUY_...
            "Best Buy closed how many stores in 2023?": "20 stores",  # a name may start the question
        }
        for question, part in answered.items():
            answer = ask(question)
            assert not answer["abstained"] and part in str(answer["answer"]), (question, answer["answer"])
        for question in (
            "Who will run Helio's new research lab?",
            "Who will run Vertex's new research lab?",
            "What stake in Globex did Initech acquire?",
            "What stake in Globex did Hooli acquire?",
            "How many stores did Home Depot close in 2023?",
            "Who did Intel hire to lead its new lab?",  # not the "intel" in "superintelligence"
        ):
            assert ask(question)["abstained"], question


def test_company_and_period_filter_search_ask_and_stream(filings_client: TestClient) -> None:
    def searched(**filters: str) -> set[str]:
        response = filings_client.get("/search", params={"q": "How did revenue grow?", **filters})
        assert response.status_code == 200
        return {r["doc_id"] for r in response.json()["results"]}

    assert searched(company="Acme") == {"acme_2023_annual.txt", "acme_2024_annual.txt"}
    assert searched(period="FY2024") == {"acme_2024_annual.txt", "globex_2024_annual.txt"}
    assert searched(company="acme", period="2024") == {"acme_2024_annual.txt"}
    assert searched(company="Initech") == set()

    body = {"question": "Revenue grew by how much as demand for cloud storage rose?", "company": "GLOBEX"}
    answer = filings_client.post("/ask", json=body).json()
    assert {s["doc_id"] for s in answer["sources"]} == {"globex_2024_annual.txt"}
    assert answer["answer"].endswith("[3].")
    streamed = filings_client.post("/ask/stream", json={**body, "company": "acme", "period": "2023"})
    assert streamed.status_code == 200
    assert "acme_2023_annual.txt" in streamed.text and "_2024_" not in streamed.text
    # A filter no document matches says so, rather than leaving a bare abstention.
    nothing = filings_client.post("/ask", json={**body, "company": "Initech"}).json()
    assert nothing["abstained"] and nothing["sources"] == []
    assert nothing["note"] == "no document matches the filters (company=Initech)"


def test_a_report_named_for_two_parties_does_not_lend_one_to_a_sentence_about_the_other(
    tmp_path_factory: pytest.TempPathFactory, embedder: Embedder
) -> None:
    # The file name gives Orbis and Nimbus; the sentence on lost clients names only Nimbus.
    report = (
        "Orbis bought a 49% stake in Nimbus for $9.6 billion [1].\n\nAfter the deal, clients such as Vertex "
        "and Helio ended their contracts with Nimbus [2].\n"
    )
    pipeline = answering_of({"orbis-nimbus-deal.txt": report}, tmp_path_factory, embedder)
    answer = pipeline.ask("Which clients ended their contracts with Nimbus?")
    assert not answer.abstained and answer.text.endswith("ended their contracts with Nimbus [2].")
    for question in ("Which clients ended their contracts with Orbis?", "Did Orbis end its contracts with Nimbus?"):
        assert pipeline.ask(question).abstained, question


@pytest.mark.parametrize(
    ("filters", "needle"),
    [
        ({"period": "next year"}, "must be a year"),
        ({"period": "2023Q7"}, "must be a year"),
        ({"company": "--"}, "letter or digit"),
        ({"company": ""}, "at least 1 character"),
        ({"company": "x" * 201}, "at most 200 characters"),
    ],
)
def test_bad_company_or_period_gets_422_everywhere(client: TestClient, filters: dict[str, str], needle: str) -> None:
    responses = [
        client.get("/search", params={"q": "Scale AI", **filters}),
        client.post("/ask", json={"question": "Who?", **filters}),
        client.post("/ask/stream", json={"question": "Who?", **filters}),
    ]
    for response in responses:
        assert response.status_code == 422
        assert needle in str(response.json()["detail"])


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/ask", '{"question": "How much did Meta pay \\ud800?"}'),
        ("/ask", '{"question": "Who will lead it?", "history": ["Meta \\udfff"]}'),
        ("/ask", '{"question": "How much did Meta pay?", "company": "Me\\ud800ta"}'),
        ("/ask/stream", '{"question": "How much did Meta pay \\ud800?"}'),
        ("/v1/chat/completions", '{"messages": [{"role": "user", "content": "How much \\ud800?"}]}'),
        (
            "/v1/chat/completions",
            '{"messages": [{"role": "system", "content": "\\ud800"}, {"role": "user", "content": "Hi"}]}',
        ),
        ("/ask", '{"question": "Who?", "top_k": NaN}'),
        ("/ask", '{"question": "Who?", "top_k": 1e400}'),
        ("/ask", '{"question": Infinity}'),
        ("/ask/stream", '{"question": "Who?", "top_k": -Infinity}'),
        ("/v1/chat/completions", '{"messages": [{"role": "user", "content": NaN}]}'),
    ],
)
def test_lone_surrogates_nan_and_infinity_are_refused_as_bad_input_on_every_route(
    client: TestClient, path: str, body: str
) -> None:
    # A lone surrogate is valid JSON, but not text a tokenizer can read nor a UTF-8 answer can echo; NaN
    # and Infinity are not JSON, but Python's reader takes them. Either way: a 422, never a 500.
    response = client.post(path, content=body.encode(), headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["detail"]


def test_an_empty_index_says_so_in_readyz_and_in_every_answer(tmp_path: Path, embedder: Embedder) -> None:
    # As an older citeqa published it from a folder of unreadable files (today's refuses to).
    indexer = Indexer(embedder, progress=False)
    location = IndexLocation(tmp_path / "index")
    build = location.new_build()
    write_index(build, indexer._assemble([], IndexReport(location.path)))
    location.publish(build)
    settings = Settings(index_dir=location.path)
    with TestClient(create_app(settings, QuestionAnswering(settings, embedder=embedder))) as client:
        deadline = time.monotonic() + 30
        while client.get("/readyz").json()["status"] == "loading" and time.monotonic() < deadline:
            time.sleep(0.05)
        ready = client.get("/readyz").json()
        assert ready["documents"] == 0 and "the index holds no documents" in ready["detail"]
        body = client.post("/ask", json={"question": "How much did Meta pay for Scale AI?"}).json()
        assert body["abstained"] is True
        assert body["note"] and "the index holds no documents" in body["note"]


def test_the_schema_calls_score_a_relevance_score_that_can_exceed_1(client: TestClient) -> None:
    source = client.get("/openapi.json").json()["components"]["schemas"]["Source"]
    described = source["properties"]["score"]["description"]
    assert described.startswith("relevance score") and "can exceed 1" in described
    # It is one indeed: a question naming the document's words gets lexical scores on top of the cosine.
    results = client.get("/search", params={"q": "Meta acquisition of Scale AI stake"}).json()["results"]
    scores = [result["score"] for result in results]
    assert max(scores) > 1, scores


def test_a_line_saying_the_report_has_no_information_is_no_cited_answer(client: TestClient) -> None:
    body = client.post("/ask", json={"question": "What investment rating does the report give?"}).json()
    # Not "Report Industry Investment Rating No information provided ..." as if it were a claim.
    assert body["abstained"] is True and body["citations"] == []
    assert body["answer"] == "No sentence of the reports answers this as asked; the closest they come:"
    assert body["closest"][0]["text"] == "No information provided regarding the report industry investment rating."
    assert body["note"] == (
        'the report says it has no information on this: "No information provided regarding the report industry '
        'investment rating." (meta-scale-ai-acquisition.txt)'
    )


def test_an_unanswered_question_says_which_of_its_words_no_report_uses(client: TestClient) -> None:
    body = client.post("/ask", json={"question": "What was Scale AI's revenue in 2024?"}).json()
    assert body["abstained"] is True
    assert body["note"] == 'no sentence of the reports uses the words "revenue" or "2024"'
    typo = client.post("/ask", json={"question": "Who founded Scael AI?"}).json()
    assert typo["abstained"] is True
    assert typo["note"] == 'no sentence of the reports uses the word "Scael"'
    answered = client.post("/ask", json={"question": "Who is Scale AI's founder?"}).json()
    assert answered["abstained"] is False and answered["note"] is None


def test_words_the_name_of_a_retrieved_document_gives_are_not_called_unused(filings_client: TestClient) -> None:
    # No sentence says "Acme" or "2024"; the file names acme_2024_annual.txt do.
    body = filings_client.post("/ask", json={"question": "What did Acme pay its chief executive in 2024?"}).json()
    assert body["abstained"] is True
    assert body["note"].endswith('no sentence of the reports uses the words "pay", "chief" or "executive"')


def test_a_name_written_apart_that_a_document_name_writes_together_is_not_called_unused(
    tmp_path_factory: pytest.TempPathFactory, embedder: Embedder
) -> None:
    # No sentence says "Globex" or "Systems"; the file name GLOBEXSYSTEMS_2024_10K.txt does, as one word.
    qa = answering_of(
        {"GLOBEXSYSTEMS_2024_10K.txt": "Orders for turbine parts rose 6% as airlines renewed their fleets [1]."},
        tmp_path_factory,
        embedder,
    )
    answer = qa.ask("Is Globex Systems' business subject to cyclicality?")
    assert answer.abstained
    assert answer.note == 'no sentence of the reports uses the words "business", "subject" or "cyclicality"'


def test_a_422_repeats_a_long_input_cut_short(client: TestClient) -> None:
    response = client.post("/ask", json={"question": "x" * 60_000})
    assert response.status_code == 422 and len(response.content) < 1_000
    assert response.json()["detail"][0]["input"].endswith("… (60000 characters)")


def test_null_history_is_no_history_and_probes_may_use_head(client: TestClient) -> None:
    body = client.post("/ask", json={"question": "Who is Scale AI's founder?", "history": None}).json()
    assert "Alexandr Wang" in body["answer"]
    for path in ("/livez", "/readyz"):
        assert client.head(path).status_code == 200, path
