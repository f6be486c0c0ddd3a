"""The Brazilian Portuguese catalogue is complete and the committed .mo is compiled from
the committed .po (``make messages`` refreshes both; GNU gettext's msgfmt compiles)."""

import gettext
import re
import shutil
import subprocess
from pathlib import Path

from django.conf import settings

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "pt_BR" / "LC_MESSAGES"
ENTRY_KEY = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) "(.*)"$')


def po_entries(path: Path) -> list[dict]:
    """Each entry of a .po file: its flags and its (joined, still escaped) strings."""
    entries = []
    for block in path.read_text(encoding="utf-8").strip().split("\n\n"):
        entry, key = {"flags": set(), "strings": {}}, None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"].update(flag.strip() for flag in line[2:].split(","))
            elif line.startswith("#"):
                continue
            elif match := ENTRY_KEY.match(line):
                key = match.group(1)
                entry["strings"][key] = match.group(2)
            elif line.startswith('"') and key:
                entry["strings"][key] += line[1:-1]
        entries.append(entry)
    return entries


def test_every_portuguese_entry_is_translated_and_none_is_fuzzy():
    entries = [e for e in po_entries(CATALOGUE / "django.po") if e["strings"].get("msgid")]
    assert len(entries) > 400  # the staff pages and documents, not a stub
    fuzzy = [e["strings"]["msgid"] for e in entries if "fuzzy" in e["flags"]]
    empty = [
        e["strings"]["msgid"]
        for e in entries
        if any(not value for key, value in e["strings"].items() if key.startswith("msgstr"))
    ]
    assert not fuzzy, f"fuzzy entries: {fuzzy[:10]}"
    assert not empty, f"untranslated entries: {empty[:10]}"


def test_placeholders_survive_translation():
    for entry in po_entries(CATALOGUE / "django.po"):
        strings = entry["strings"]
        if not strings.get("msgid") or "python-format" not in entry["flags"]:
            continue
        wanted = set(re.findall(r"%\(\w+\)s", strings["msgid"]))
        for key, value in strings.items():
            if key.startswith("msgstr"):
                assert set(re.findall(r"%\(\w+\)s", value)) == wanted, strings["msgid"]


def test_committed_mo_is_compiled_from_the_committed_po(tmp_path):
    msgfmt = shutil.which("msgfmt")
    assert msgfmt, "GNU gettext's msgfmt is needed (apt-get install gettext)"
    fresh = tmp_path / "django.mo"
    subprocess.run(
        [msgfmt, "--check-format", "-o", str(fresh), str(CATALOGUE / "django.po")], check=True
    )
    with fresh.open("rb") as new, (CATALOGUE / "django.mo").open("rb") as committed:
        compiled, shipped = gettext.GNUTranslations(new), gettext.GNUTranslations(committed)
    assert shipped._catalog == compiled._catalog, "run `make messages` and commit the .mo"
