"""The ingest route: reader lines (text) and JSON, answered once durable, replays add nothing,
and the results equal `gambero score` byte for byte."""

from __future__ import annotations

from gambero.offline import score_event
from timing.results import results_csv

from .conftest import EXAMPLE, Served, reader_file, reader_ids


def score_csv_for(race_id: str) -> str:
    report = score_event(EXAMPLE)
    text = results_csv(report.files.event, report.standings.results())
    lines = text.splitlines(keepends=True)
    return lines[0] + "".join(line for line in lines[1:] if line.startswith(f"{race_id},"))


async def ingest_example(served: Served) -> dict[str, dict[str, int]]:
    answers = {}
    for reader_id in reader_ids():
        answer = await served.client.post(
            f"/api/readers/{reader_id}/reads", content=reader_file(reader_id),
            headers={**served.admin, "Content-Type": "text/plain"})
        assert answer.status_code == 200, answer.text
        answers[reader_id] = answer.json()
    return answers


async def test_results_csv_equals_gambero_score_byte_for_byte(served: Served) -> None:
    await ingest_example(served)
    for race_id in ("mile", "kids"):
        answer = await served.client.get(f"/api/races/{race_id}/results.csv")
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/csv")
        assert answer.content == score_csv_for(race_id).encode()
        assert answer.content.count(b"\n") > 20


async def test_resending_the_same_lines_adds_nothing(served: Served) -> None:
    first = await ingest_example(served)
    seq = (await served.client.get("/api/health")).json()["seq"]
    again = await ingest_example(served)
    # No read is stored twice; the rejected lines (no identity to de-duplicate on) are
    # journaled again, so that nothing a reader sent goes unrecorded.
    rejected = sum(answer["rejected"] for answer in again.values())
    assert rejected == 2
    assert (await served.client.get("/api/health")).json()["seq"] == seq + rejected
    for reader_id, answer in again.items():
        assert answer["accepted"] == 0, reader_id
        assert answer["duplicates"] == (first[reader_id]["accepted"]
                                        + first[reader_id]["duplicates"]), reader_id
    ipico = (await served.client.get("/api/readers/finish-main", headers=served.admin)).json()
    assert ipico["reads"] == first["finish-main"]["accepted"] > 100
    assert ipico["duplicates"] == (2 * first["finish-main"]["duplicates"]
                                   + first["finish-main"]["accepted"])
    assert ipico["rejected"] == 2 * first["finish-main"]["rejected"] == 2
    assert ipico["transport"] == "file" and ipico["connected"] is True


async def test_json_reads_and_counts(served: Served) -> None:
    gun = (await served.client.get("/api/races")).json()[0]["waves"][0]["gun_ms"]
    body = {"reads": [{"chip": "058000120007", "time_ms": gun + 400_000},
                      {"chip": "058000120007", "time_ms": gun + 400_100},
                      {"chip": "0580009fffff", "time_ms": gun + 401_000}]}
    answer = await served.client.post("/api/readers/finish-main/reads", json=body,
                                      headers=served.admin)
    assert answer.json() == {"accepted": 3, "duplicates": 0, "rejected": 0,
                             "seq": answer.json()["seq"]}
    assert answer.json()["seq"] == 3
    again = await served.client.post("/api/readers/finish-main/reads", json=body,
                                     headers=served.admin)
    assert again.json()["accepted"] == 0 and again.json()["duplicates"] == 3
    athlete = (await served.client.get("/api/athletes/1")).json()
    assert athlete["status"] == "FIN" and athlete["gun_time"] == "6:40"
    assert athlete["finish_ms"] == gun + 400_000
    health = (await served.client.get("/api/readers/finish-main", headers=served.admin)).json()
    assert (health["reads"], health["duplicates"], health["rejected"]) == (3, 3, 0)
    unknown = (await served.client.get("/api/unknown-chips", headers=served.admin)).json()
    assert unknown == [{"chip": "0580009fffff", "reads": 1, "first_ms": gun + 401_000,
                        "last_ms": gun + 401_000, "readers": ["finish-main"]}]


async def test_bad_bodies_are_refused_or_journaled_as_rejected(served: Served) -> None:
    bad_json = await served.client.post("/api/readers/finish-main/reads",
                                        json={"reads": [{"chip": "x"}]}, headers=served.admin)
    assert bad_json.status_code == 422 and "time_ms" in bad_json.json()["detail"]
    wrong_type = await served.client.post("/api/readers/finish-main/reads", content=b"x",
                                          headers={**served.admin,
                                                   "Content-Type": "image/png"})
    assert wrong_type.status_code == 415
    garbage = await served.client.post("/api/readers/finish-main/reads",
                                       content=b"not an ipico line\n",
                                       headers={**served.admin, "Content-Type": "text/plain"})
    assert garbage.json()["rejected"] == 1 and garbage.json()["accepted"] == 0
    rejected = (await served.client.get("/api/rejected", headers=served.admin)).json()
    assert rejected[0]["line"] == "not an ipico line" and rejected[0]["reader"] == "finish-main"
    unknown = await served.client.post("/api/readers/nope/reads", content=b"",
                                       headers=served.admin)
    assert unknown.status_code == 404
