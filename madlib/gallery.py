"""paper_figures/README.md: every figure with its notebook, image, the paper's claim and our verdict."""

from __future__ import annotations

from pathlib import Path

from madlib import claims, presets
from madlib.runs import atomic_write_bytes

START, END = "<!-- gallery:start -->", "<!-- gallery:end -->"
NO_CLAIM = "(nothing to check: a diagram or sample pictures)"
NOT_REPRODUCED = [
    ("2", "LAION-5B examples of synthetic images in a training set: photographs of a dataset, nothing to compute"),
]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "<br>")


BEYOND = "beyond the paper"


def _number(figure: presets.Figure) -> str:
    """The figure's number, marked when the figure is ours and not the paper's (its claim comes from later work)."""
    return f"{figure.number} ({BEYOND})" if presets.is_beyond_paper(figure) else figure.number


def render(claim_table: dict, preset: str) -> str:
    lines = [
        "# Figures of the paper, regenerated",
        "",
        f"Made by `make figures` (preset `{preset}`); each row links the notebook that makes the figure. The verdict",
        "is computed by `madlib.claims` from the figure's own data (`data/<figure>.csv`; its SHA-256 is in claims.json):",
        "a claim *holds* when every check is supported, is *contradicted* when any check is, and is *inconclusive*",
        "otherwise; an undecided check says what data would decide it. The numbers behind each check are listed under",
        "it. `madlib claims` prints the same table; `madlib claims --rejudge` recomputes it from the data files.",
        "",
        "| Fig. | notebook | figure | the paper's claim | our verdict |",
        "|---|---|---|---|---|",
    ]
    for figure in presets.FIGURES_LIST:
        result = claim_table.get(figure.stem)
        image = f"![{figure.stem}]({figure.stem}.png)" if result else "(not run yet)"
        verdict = _verdict_cell(result)
        lines.append(f"| {_number(figure)} | [{figure.stem}](../notebooks/{figure.stem}.ipynb) | {image} | "
                     f"{_cell(figure.claim or NO_CLAIM)} | {verdict} |")
    lines += ["", "## Not reproduced", "", "| Fig. | what |", "|---|---|"]
    lines += [f"| {number} | {what} |" for number, what in NOT_REPRODUCED]
    return "\n".join(lines) + "\n"


def _verdict_cell(result: dict | None) -> str:
    if not result:
        return "not run"
    parts = [f"**{result['verdict']}** ({result['preset']})"]
    if claims.scale_text(result):
        parts.append(claims.scale_text(result))
    for c in result["checks"]:
        parts.append(f"{MARKS[c['outcome']]} {c['outcome']}: {c['name']}: {c['evidence']}")
        if c.get("decide"):
            parts.append(f"&nbsp;&nbsp;would decide it: {c['decide']}")
    return _cell("\n".join(parts))


MARKS = {claims.SUPPORTED: "✔", claims.CONTRADICTED: "✘", claims.UNDECIDED: "?"}


def summary(claim_table: dict) -> str:
    """The short gallery of the project README: figure (linking its notebook), picture, claim, verdict and, where the
    claim is contradicted or inconclusive, the checks that decide it (the notebook's header says why)."""
    lines = ["| Fig. | figure | the paper's claim | our verdict |", "|---|---|---|---|"]
    for figure in presets.FIGURES_LIST:
        result = claim_table.get(figure.stem)
        if result:
            link = f"[{_number(figure)}](notebooks/{figure.stem}.ipynb)"
            image = f'<img src="paper_figures/{figure.stem}.png" width="360">'
            lines.append(f"| {link} | {image} | {_cell(figure.claim or NO_CLAIM)} | {_cell(_short_verdict(result))} |")
        if figure.number == "1":  # Fig. 2 in its place
            lines += [f"| {number} | — | {_cell(what)} | not reproduced |" for number, what in NOT_REPRODUCED]
    return "\n".join(lines)


def _short_verdict(result: dict) -> str:
    """The verdict in bold; when contradicted, the checks that were; when inconclusive, the undecided checks and what
    would decide each."""
    text = f"**{result['verdict']}**"
    checks = result.get("checks", [])
    if result["verdict"] == claims.CONTRADICTED:
        text += "\ncontradicted: " + "; ".join(c["name"] for c in checks if c["outcome"] == claims.CONTRADICTED)
    elif result["verdict"] == claims.INCONCLUSIVE:
        text += "\nundecided: " + "; ".join(f"{c['name']} ({c['decide']})" if c.get("decide") else c["name"]
                                              for c in checks if c["outcome"] == claims.UNDECIDED)
        if claims.scale_text(result):
            text += f"\n({claims.scale_text(result)})"
    return text


def write(preset: str) -> Path:
    """paper_figures/README.md, and at the default preset the gallery block of the project README."""
    folder = presets.output_dir(preset)
    table = claims.load(folder / "claims.json")
    path = folder / "README.md"
    atomic_write_bytes(path, render(table, preset).encode())
    if preset == "default":
        _update_project_readme(summary(table))
    return path


def _update_project_readme(block: str) -> None:
    readme = presets.ROOT / "README.md"
    text = readme.read_text()
    if START not in text or END not in text:
        return
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    atomic_write_bytes(readme, f"{head}{START}\n{block}\n{END}{tail}".encode())
