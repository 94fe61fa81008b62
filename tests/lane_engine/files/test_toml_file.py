"""The TOML reading every lane loader shares: the loader's own error type, naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from lane_engine.errors import ConfigError, NetworkError, PolicyError
from lane_engine.files.toml_reader import dotted, field_error, load_toml, read_toml


def test_a_document_is_read_as_a_dict(tmp_path: Path) -> None:
    path = tmp_path / "plaza.toml"
    path.write_text('[plaza]\nstation = 101\nname = "Jinan East"\n', encoding="utf-8")
    assert read_toml(path, what="configuration", error=ConfigError) == {
        "plaza": {"station": 101, "name": "Jinan East"}}



def test_load_hands_the_document_and_the_path_as_source_to_the_builder(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text('version = "v7"\n', encoding="utf-8")
    built = load_toml(str(path), lambda document, source: (document, source),
                      what="policy file", error=PolicyError)
    assert built == ({"version": "v7"}, str(path))


@pytest.mark.parametrize("error", [ConfigError, PolicyError, NetworkError])
def test_a_missing_file_raises_the_loaders_error_naming_file_and_kind(
        tmp_path: Path, error: type[ConfigError]) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(error, match=r"absent\.toml: cannot read road map: ") as caught:
        read_toml(path, what="road map", error=error)
    assert type(caught.value) is error


def test_bad_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("version = \n", encoding="utf-8")
    with pytest.raises(PolicyError, match=r"broken\.toml: not valid TOML"):
        read_toml(path, what="policy file", error=PolicyError)


def test_field_errors_name_file_and_dotted_field() -> None:
    error = field_error(NetworkError, "net.toml", dotted("sections[3]", "to"), "unknown node 42")
    assert isinstance(error, NetworkError)
    assert str(error) == "net.toml: sections[3].to: unknown node 42"
    assert dotted("", "version") == "version"
