"""`q=` on the results finds people as people type them, the same for every page and the API
(timing.search): accents, case and apostrophes ignored, names in either order, prefixes."""

from __future__ import annotations

from .conftest import Served


async def test_results_search_finds_names_as_typed(served: Served) -> None:
    for bib, first, last in (("9001", "Órla", "Ó Súilleabháin"), ("9002", "Jürgen", "Schäfer"),
                             ("9003", "Luca", "D\u2019Angelo")):
        added = await served.client.post("/api/athletes", headers=served.admin, json={
            "bib": bib, "first_name": first, "last_name": last, "gender": "M",
            "race": "kids", "reason": "late entry"})
        assert added.status_code == 201, added.text

    async def bibs(query: str) -> list[str]:
        answer = await served.client.get("/api/races/kids/results", params={"q": query})
        assert answer.status_code == 200, answer.text
        return sorted(row["bib"] for row in answer.json()["rows"] if row["bib"].startswith("900"))

    assert await bibs("O Suilleabhain") == ["9001"]
    assert await bibs("suilleabhain orla") == ["9001"]
    assert await bibs("Schafer") == ["9002"]
    assert await bibs("jurgen sch") == ["9002"]
    assert await bibs("d'angelo") == ["9003"]
    assert await bibs("dangelo luca") == ["9003"]
    assert await bibs("9002") == ["9002"]
    assert await bibs("angelo x") == []
