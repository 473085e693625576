import asyncio
from pathlib import Path

import polars as pl
import pytest

from smskit import attributes as attrs
from smskit.cli import main
from smskit.errors import InvalidInputError
from smskit.preview import preview_batch
from smskit.segments import estimate_cost, measure

BATCH = (Path(__file__).resolve().parent.parent / "data" / "examples" / "demo_batch.csv").read_text(
    encoding="utf-8"
)
NOTICE = "Reply STOP to opt out."


@pytest.fixture
def northwind(project):  # type: ignore[no-untyped-def]
    """Return the project with the demo's settings and the demo batch stored paused."""
    project.set(attrs.DEFAULT_REGION, "US")
    project.set(attrs.BUSINESS_CONTEXT, "Northwind Energy, a home energy supplier")
    project.add_batch("March", BATCH, paused=True)
    return project


def test_preview_batch_first_valid_rows(northwind):
    frame = preview_batch(northwind, "March", 3)
    assert frame.columns == ["row", "phone_number", "greeting", "segments", "encoding", "cost"]
    assert frame["row"].to_list() == [1, 2, 3]
    assert frame["phone_number"].to_list() == ["+12025550143", "+13125550101", "+16175550123"]
    assert frame["greeting"][0] == (
        "Hi Maria, this is Alex from Northwind Energy. Hope you're well! Your Home Plus plan "
        "renews on March 15. Would you like to renew? Reply STOP to opt out."
    )
    for row in frame.to_dicts():
        size = measure(row["greeting"])
        assert row["greeting"].endswith(" " + NOTICE)
        assert row["segments"] == size.segments
        assert row["encoding"] == size.encoding
        assert row["cost"] == pytest.approx(estimate_cost(size.segments))


def test_preview_batch_skips_invalid_rows(northwind):
    frame = preview_batch(northwind, "March", 30)
    valid = northwind.tasks("March").filter(pl.col("verdict") == "valid")
    assert frame["row"].to_list() == sorted(valid["row"].to_list())
    assert 17 not in frame["row"].to_list()
    assert 21 not in frame["row"].to_list()


def test_preview_batch_by_id_and_default_n(northwind):
    batch_id = northwind.batch_id("March")
    frame = preview_batch(northwind, batch_id)
    assert frame.height == 5
    assert frame.schema["cost"] == pl.Float64


def test_preview_batch_follows_settings(northwind):
    northwind.set(attrs.OPT_OUT_NOTICE, "")
    northwind.set(attrs.AGENT_LANGUAGE, "es")
    northwind.set(attrs.AGENT_NAME, "Lucía")
    greeting = preview_batch(northwind, "March", 1)["greeting"][0]
    assert greeting.startswith("Hola Maria, soy Lucía, de Northwind Energy.")
    assert '"Your Home Plus plan renews on March 15"' in greeting
    assert NOTICE not in greeting


def test_preview_batch_shortens_to_max_segments(northwind):
    northwind.set(attrs.MAX_SEGMENTS, "1")
    frame = preview_batch(northwind, "March", 5)
    assert frame["segments"].to_list() == [1] * 5
    for greeting in frame["greeting"].to_list():
        assert greeting.endswith(NOTICE)


def test_preview_batch_from_running_event_loop(northwind):
    async def inside_loop() -> pl.DataFrame:
        return preview_batch(northwind, "March", 2)

    frame = asyncio.run(inside_loop())
    assert frame["row"].to_list() == [1, 2]


@pytest.mark.parametrize("n", [0, -1, 2.5, True, "3"])
def test_preview_batch_invalid_n_raises(northwind, n):
    with pytest.raises(InvalidInputError, match="invalid number of sample rows"):
        preview_batch(northwind, "March", n)


def test_preview_batch_unknown_batch_raises(northwind):
    with pytest.raises(InvalidInputError, match="no batch with title or id 'April'.*'March'"):
        preview_batch(northwind, "April")


def test_preview_batch_nothing_unsent_raises(northwind):
    northwind.cancel("March")
    with pytest.raises(InvalidInputError, match="batch 'March' has no valid rows waiting"):
        preview_batch(northwind, "March")


def test_cli_batch_preview_prints_greetings(northwind, data_dir, capsys):
    code = main(["batch", "preview", "March", "--n", "2", "--data", str(data_dir)])
    out = capsys.readouterr().out
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 4
    assert lines[0] == "row 1 +12025550143 (1 segments, GSM-7, about $0.0079):"
    assert lines[1] == (
        "  Hi Maria, this is Alex from Northwind Energy. Hope you're well! Your Home Plus plan "
        "renews on March 15. Would you like to renew? Reply STOP to opt out."
    )
    assert lines[2].startswith("row 2 +13125550101 (")
    assert "Can you confirm your boiler service appointment next Tuesday morning?" in lines[3]


def test_cli_batch_preview_errors(northwind, data_dir, capsys):
    assert main(["batch", "preview", "April", "--data", str(data_dir)]) == 2
    assert "no batch with title or id 'April'" in capsys.readouterr().err
    assert main(["batch", "preview", "March", "--n", "0", "--data", str(data_dir)]) == 2
    assert "invalid number of sample rows 0" in capsys.readouterr().err
