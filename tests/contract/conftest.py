from collections.abc import Iterator
from pathlib import Path

import pytest
from prism import Prism


@pytest.fixture(scope="session")
def prism(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prism]:
    """Serve the Messages contract with Prism for the whole test session."""
    log_path: Path = tmp_path_factory.mktemp("prism") / "prism.log"
    server = Prism(log_path).start()
    yield server
    server.stop()
