"""The teaching page's Info panel, in the order teachers know from NetLogo's Info tab.

What is it? / How it works / How to use it / Things to notice / Things to try / Assumptions and limits /
Extending the model / Sources. Written as Markdown (rendered to HTML on the server, so the page stays
offline). The parts that depend on the model are data, to be updated with it:

* :data:`ACTORS`: one sentence per actor saying what it decides and on what. When the actors' decision rules
  change (docs/ODD.md), change these sentences; nothing else refers to them.
* :data:`EXPERIMENTS`: the "things to try", each naming the page's levers by their key in
  :data:`sim.edge.page_run.LEVERS` (a lever that disappears breaks the import here, and the test says so).
  The teacher pack's exercises (``docs/teaching/exercises.md``) follow them with expected answers.
* Lever units, ranges and sources come from the schema; scenario questions from ``conf/scenario/``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from html import escape

import markdown

from sim.store.sources import load_provenance, load_sources

from .page_run import (
    CASE,
    LEVER_BY_KEY,
    LEVERS,
    MONTHS_MAX,
    RU_EXPLAINED,
    SEED_MAX,
    PageRun,
    Settings,
    control,
    scenario,
)

#: What each actor decides, in a sentence (update with the decision rules in docs/ODD.md, section 7).
ACTORS: dict[str, str] = {
    "Regime": (
        "decides each month how many people to arrest: where the value of one more arrest - control at home "
        "over the sentence, plus the prisoner's value as a bargaining chip, less the sanctions it expects "
        "the arrest to provoke - meets its rising cost at home. In a bargaining round it gives up only "
        "prisoners worth less to it than the relief it gets, keeping high-profile prisoners and those tied "
        "to Lithuania or Poland for last; under a restraint clause it complies or cheats, whichever it "
        "expects to cost less; and it pardons a few ordinary prisoners now and then."
    ),
    "United States": (
        "has a contact about one month in three while its special envoy is in place. At a contact it pauses "
        "if arrests have risen well above their level before the talks; otherwise it puts relief on the "
        "table, and the deal - how many and which prisoners against which sanctions - is the Nash bargaining "
        "solution, which splits the gain between the two sides. It holds the round only if its gain beats "
        "the cost of a round, a cost that grows when arrests outrun releases. Its policy sets the terms "
        "(restraint clause, snapback, no deals, a grand bargain), and when arrests spike, or when it has "
        "little left to trade, it adds new designations."
    ),
    "European Union": (
        "reviews its sanctions once a year, in February: an index of arrests, releases, the exiles' lobbying "
        "and border incidents makes it tighten, hold or relax. A firm EU relaxes only once the number held "
        "has fallen to about half and never bargains; a relaxed EU follows US relief part of the way and "
        "bargains for releases itself."
    ),
    "Lithuania and Poland": (
        "bargain now and then for the prisoners tied to them; close their border crossings after a serious "
        "security incident; and Lithuania reviews every month whether to open its ports to Belarusian potash "
        "(transit revenue against security and EU-alignment costs). While transit is closed, US relief on "
        "potash is worth half as much to the regime."
    ),
    "Opposition": (
        "mobilises when enough others do (each person has a threshold): arrests anger and deter, releases "
        "bring hope. Expelled prisoners join the exiles, who lobby the EU; released high-profile figures may "
        "found new centres of the opposition, which splits it."
    ),
    "Russia": (
        "is not an actor but the regime's outside option: the more it supports the regime, the less Western "
        "relief is worth."
    ),
}


@dataclass(frozen=True)
class Experiment:
    """A thing to try on the page.

    Attributes:
        title: a short title (the teacher pack's exercises use the same titles, in the same order).
        levers: keys of :data:`sim.edge.page_run.LEVERS` the experiment moves (checked at import).
        steps: what to do, in Markdown; ``{key}`` is replaced by the lever's label in bold.
        look_for: what to look for (a question, not the answer).
    """

    title: str
    levers: tuple[str, ...]
    steps: str
    look_for: str

    def __post_init__(self) -> None:
        for key in self.levers:
            if key not in LEVER_BY_KEY:
                raise KeyError(f"experiment {self.title!r}: no page lever {key!r} in LEVERS")

    def text(self) -> str:
        """The steps with the levers' labels filled in."""
        return self.steps.format(**{k: f"**{LEVER_BY_KEY[k].label}**" for k in self.levers})


EXPERIMENTS: tuple[Experiment, ...] = (
    Experiment(
        "The revolving door",
        (),
        "Keep the baseline, press **Reset** and **Play** to the end of the run.",
        "How many were released in all, and how many were arrested? How much did the number held fall, "
        "compared with the number released? What does the revolving-door ratio say?",
    ),
    Experiment(
        "Stop paying",
        ("us_policy",),
        "Set {us_policy} to *maximum_pressure*, press **Reset** and run to the end. Compare with the "
        "baseline run (same seed).",
        "Do deals still happen, and with whom? Are there more or fewer arrests than when the US pays for "
        "releases? Where does the number held end? What does the learned price do?",
    ),
    Experiment(
        "Pay only for restraint",
        ("us_policy", "restraint"),
        "Set {us_policy} to *conditional* and press **Reset**; run to the end. Then try {restraint} at 0 % "
        "and at 100 %.",
        "What happens to arrests in the months after a conditional deal (the decisions box says whether the "
        "regime complies or cheats)? How does the revolving-door ratio compare with the baseline, and with "
        "a restraint of 0 %? How many are released in deals?",
    ),
    Experiment(
        "Open the Baltic ports",
        ("transit",),
        "Set {transit} to 0 % (open), press **Reset** and run to the end; watch the chart of Europe and the "
        "neighbours. Then choose the scenario *eu_transit_reopens* (Lithuania values the transit revenue "
        "more) and run it.",
        "How long do the ports stay open, and who closes them again, and why? What changes when transit "
        "pays Lithuania more than it costs?",
    ),
    Experiment(
        "What is a release worth to the US?",
        ("us_value",),
        "Run once with {us_value} at 0.5 RU and once at 3 RU, each time pressing **Reset** (same seed).",
        "With which value does the US pay more per prisoner (the deal log's relief, and the learned price)? "
        "Are more prisoners released?",
    ),
    Experiment(
        "How much do arrests respond?",
        ("elasticity",),
        "Set {elasticity} to 0, press **Reset** and run to the end; then set it to 3 and run again. Watch "
        "the chart of the regime's arrest decision.",
        "At 0, does the chosen arrest rate move at all? At 3, what does it follow? Which of the two values "
        "of an arrest - control at home or bargaining chip - is larger?",
    ),
    Experiment(
        "Same seed, same story",
        (),
        "Press **Reset** and run to the end; write down the final number held. Press **Reset** again with "
        "the same seed, then change only the seed.",
        "Is the run with the same seed identical? How much does chance alone change the month of the first "
        "deal and the final number held? Why does a researcher run many seeds?",
    ),
    Experiment(
        "The EU relaxes",
        ("eu_stance",),
        "Set {eu_stance} to *relaxed*, press **Reset** and run to the end.",
        "What happens to EU sanctions and to the relief the regime has gained? Who makes deals now, and "
        "are more prisoners released in deals in all than with a firm EU?",
    ),
    Experiment(
        "Russia steps back",
        ("russia",),
        "Run once with {russia} at 0 and once at 100 %, each time pressing **Reset** (same seed).",
        "With which support does the regime release more prisoners in deals, and gain more relief? What "
        "does that say about Russia as the regime's outside option?",
    ),
)

NOTICE = (
    "Deals release dozens of prisoners at a time, yet the number held falls little: arrests go on month "
    "after month, and the revolving-door ratio (arrests per release) stays a little below 1.",
    "The arrest decision: what one more prisoner is worth as a bargaining chip is small next to what it is "
    "worth for control at home. In this calibrated model the regime arrests mostly to keep control; deals "
    "move arrests through the chip value, a little, and through the sanctions the regime expects.",
    "US relief runs out within the first year, often at the first deal (the US sanctions chart drops to "
    "0): from then on the US adds new designations, partly to punish arrests and partly to have something "
    "left to trade, and trades them away in the same month.",
    "A firm EU hardly moves: the number held stays far above the half it waits for.",
    "Lithuania and Poland make their own small deals, for the prisoners tied to them.",
    "The decisions box gives each actor's choice of the month and what it weighed; the download's "
    "decisions.csv has them all.",
    "Every run is one possible history: the seed draws the chance events and, from the calibration, the "
    "uncertain values (the levers marked calibrated). The same seed repeats it exactly.",
)

LIMITS = (
    "The numbers are informed guesses around a handful of figures from five news and analysis articles of "
    "December 2025, with ten parameters fitted to Viasna's monthly record of 2020-2024 and the figures of "
    "2025 (the calibration); each seed draws them from what the fit leaves uncertain. The model explores "
    "scenarios; it is not a forecast.",
    "The regime knows the rules of the US and the EU exactly; only prices, how often deals come and whether "
    "relief is taken back are learned.",
    "Bargaining is one counterpart at a time; there are no joint deals, and Ukraine, where most of the "
    "expelled went, is a destination, not a counterpart.",
    "Relief is counted in RU, a unit of this model: one RU is the relief per prisoner of the December 2025 "
    "deal. It is not dollars.",
    "Crackdowns come only from the record (the 2020 wave); a run from 2026 has no new one. Border incidents "
    "are chance events, not the regime's choice.",
    "Russia is not an actor, and there is no economy or war: the regime's need for relief grows steadily.",
    "One step is a month; there is no geography, and the opposition is a thousand represented people with "
    "thresholds, not a network.",
)

EXTEND = (
    "**A new lever on this page**: add one line to `LEVERS` in `sim/edge/page_run.py` (its dotted parameter "
    "name, a label and a sentence); the slider's range, step and unit come from the schema in "
    "`sim/core/params.py`.",
    "**A new scenario**: a YAML file in `conf/scenario/` with a question (`description`) and the parameters "
    "it changes; it appears in the page's scenario list and in `sim-run scenario=...`.",
    "**Another country**: a case is data: `conf/case/<name>.yaml` (its counterparts, their instruments, "
    "ties and destinations), its seeds and timeline. Nicaragua, Cuba and Venezuela are cases already "
    "(`sim-run case=nicaragua ...`).",
    "**Many runs at once**: `sim-run` runs hundreds of replicates with bands, and sweeps over levers "
    "(notebooks 02 and 03).",
    "**A new decision**: each actor's rule is a method in `sim/core/` that records what it compared; "
    "docs/ODD.md says what the code does, section by section.",
)

PAPERS = (
    "Brandt, P. T., George, J. & Sandler, T. (2016). Why concessions should not be made to terrorist "
    "kidnappers. *European Journal of Political Economy* 44, 41-52. (Concessions were followed by 26-87 % "
    "more kidnappings: the prior for how arrests respond.)",
    "Nash, J. F. (1950). The bargaining problem. *Econometrica* 18(2), 155-162. (The bargaining rule of a "
    "deal.)",
    "Granovetter, M. (1978). Threshold models of collective behavior. *American Journal of Sociology* 83(6), "
    "1420-1443; Epstein, J. M. (2002). Modeling civil violence: an agent-based computational approach. "
    "*PNAS* 99(suppl. 3), 7243-7250. (The opposition's thresholds.)",
    "Grimm, V. et al. (2006). A standard protocol for describing individual-based and agent-based models. "
    "*Ecological Modelling* 198, 115-126; and Grimm, V. et al. (2020). The ODD protocol for describing "
    "agent-based and other simulation models: a second update. *JASSS* 23(2), 7. (How the model is "
    "described.)",
)


def _levers_md(run: PageRun) -> str:
    cal = run.forward.calibration
    point = cal.point if cal is not None else {}
    lines = []
    for lv in LEVERS:
        value = run.start[lv.name]
        c = control(lv, value)
        if c.choices is not None:
            what = f"one of {', '.join(f'*{x}*' for x in c.choices)}"
        else:
            what = f"{c.range_text()} on the slider"
        now = f"baseline, seed {run.settings.seed}: {c.text(value)}"
        if lv.name in point:
            now += f"; the fit's median {c.text(point[lv.name])}"
        lines.append(
            f"- **{lv.label}** ({what}; {now}; source: {escape(c.source)}). {lv.plain} "
            f"*Parameter `{lv.name}`.*"
        )
    return "\n".join(lines)


def _scenarios_md(names: tuple[str, ...]) -> str:
    return "\n".join(f"- *{n}*: {escape(scenario(n).question.strip())}" for n in names)


def _seed_documents_md() -> str:
    lines = []
    for file, d in load_sources(CASE).items():
        who = d.get("publisher") or d.get("kind", "")
        lines.append(
            f"- {escape(str(d.get('kind', '')))}, {escape(str(d.get('published', '')))}"
            f"{', ' + escape(str(who)) if who and who != d.get('kind') else ''}: "
            f"{escape(str(d.get('about', '')))} (`{file}`)"
        )
    return "\n".join(lines)


def _records_md() -> str:
    lines = []
    for file, d in load_provenance(CASE).items():
        lines.append(
            f"- `seeds/{CASE}/{file}`: {escape(str(d.get('organisation', '')))}, up to "
            f"{escape(str(d.get('cut_off', '')))}. {escape(str(d.get('definition', '')))}"
        )
    return "\n".join(lines)


@functools.cache
def info_markdown(scenario_names: tuple[str, ...]) -> str:
    """The whole Info panel as Markdown (built once per process)."""
    run = PageRun(Settings.default())
    rec = run.record()
    actors = "\n".join(f"- **{who}** {what}" for who, what in ACTORS.items())
    experiments = "\n".join(
        f"{i}. **{e.title}{'' if e.title[-1] in '?!.' else '.'}** {e.text()} *Look for:* {e.look_for}"
        for i, e in enumerate(EXPERIMENTS, 1)
    )
    bullet = "\n".join
    calibration = (
        f"The run starts from the calibration `{rec['calibration']}` (fitted to data through "
        f"{rec['data_vintage']}): the seed draws one of its posterior particles, that is values of "
        f"{len(rec['free_parameters'])} uncertain parameters, and starts from {rec['start_state']}: the "
        "prisoners held, the sanctions in force and what the regime had learned where that particle's replay "
        "of the record ended."
        if rec["calibration"]
        else "No calibration is installed: the run starts from the case file's values and a synthetic stock."
    )
    return f"""
## What is it?

*Bargaining chips* is an agent-based model of **repression as bargaining**. An authoritarian regime holds
political prisoners. It can release some of them in exchange for sanctions relief from the United States, the
European Union or its neighbours, and it can arrest new ones. The reference case is Belarus after 123
political prisoners were released on 13 December 2025; every number is a parameter, and other regimes are
other case files. The question it explores: when releases are rewarded, does the regime refill its prisons -
a *revolving door*?

## How it works

**The stock.** Each prisoner is an individual with an arrest month, a sentence, a profile (ordinary,
notable, or a high-profile symbol such as a Nobel laureate), ties to Lithuania, Poland, the US or Ukraine,
and health. Each month: *held next month = held now + arrests - releases (deals, pardons, sentences served)
- deaths in custody*.

**The learned price.** After each deal the regime moves the price it has learned a prisoner fetches part of
the way towards the relief it got per prisoner (counted in ordinary-prisoner equivalents: a symbol is worth
many ordinary prisoners). Between deals it keeps what it learned. With how often deals come and how much
relief the buyer still holds, the price sets a new prisoner's **chip value**: what it may fetch later.

**Decisions, not constants.** Every result comes from an actor comparing quantities it can see; the
*decisions* box says, each month, who chose what and what it weighed. A month runs in this order: news of
the month (talks, crackdowns from the record); the regime's need and Russia's support; sentences served,
deaths and re-arrests; pardons; the US, the EU, Lithuania and Poland act, one after the other, and deals are
made; the regime decides its arrests; the opposition mobilises.

{actors}

**Where it starts.** {calibration}

## How to use it

- **Reset** builds a new run from the settings; **Play** runs month after month (press again to pause);
  **Step** runs one month. **Changes to the settings apply when you press Reset**: until then the page
  lists the changes that are waiting.
- **Scenario**: each asks a question and fills the levers with its values. A run is exactly what
  `sim-run scenario=... seed=... replicates=1` runs, with the levers you moved as command-line values.
- **Levers** (each slider shows its value and unit; *calibrated* means the value was drawn for this seed
  from the fit, and moving the lever replaces it):

{_levers_md(run)}

- **Seed**: the run's random numbers, and the calibrated values it draws. The same seed and settings give
  the same run; another seed gives another possible history. A whole number from 0 to {SEED_MAX}; text is
  refused, so every run can be repeated with `sim-run seed=N`.
- **Months to run**: how long the run lasts (up to {MONTHS_MAX} months); the page says when the run has
  ended.
- **RU**: {RU_EXPLAINED}
- **Monitors**: the month; prisoners held at its end; arrests and releases (deals, pardons, sentences served)
  in the month; the revolving-door ratio (arrests per release since the start: near 1, the regime refills
  the prisons as fast as they empty); the learned price (RU per ordinary-prisoner equivalent); the chip value
  of a new prisoner (RU); the relief the regime has gained since the start (RU); deals so far.
- **Charts**: prisoners held; arrests against releases, added up since the start, with each month's deal
  releases as bars; US sanctions in force, in total and instrument by instrument; the regime's arrest
  decision (what an arrest is worth for control, as a chip, and the sanctions it expects, against the
  arrest rate chosen); Europe and the neighbours (EU sanctions, Baltic transit and border crossings closed);
  the opposition (mobilisation, the exiles' lobbying, fragmentation).
- **Decisions this month**: each actor's decision in a sentence, from the run's decisions table.
- **Download this run**: a zip of CSV tables (months, deals, decisions, outcomes), every setting with the
  seed, the calibration and the state the run started from, and a data dictionary with units; its README
  gives the `sim-run` command that repeats the run.

Scenarios of the {CASE.capitalize()} case:

{_scenarios_md(scenario_names)}

## Things to notice

{bullet(f"- {x}" for x in NOTICE)}

## Things to try

{experiments}

## Assumptions and limits

{bullet(f"- {x}" for x in LIMITS)}

## Extending the model

{bullet(f"- {x}" for x in EXTEND)}

## Sources

The seed documents (news and analysis of the December 2025 release; the figures taken from them are in
`seeds/{CASE}/figures.csv`, described in `seeds/{CASE}/sources.yaml`):

{_seed_documents_md()}

The monitoring record the calibration is fitted to:

{_records_md()}

Papers:

{bullet(f"- {x}" for x in PAPERS)}

The full model description, in the ODD protocol, is **docs/ODD.md** (open it with the button below, or in
the project folder).
"""


def to_html(text: str) -> str:
    """Markdown to HTML (on the server: nothing is fetched by the browser)."""
    return markdown.markdown(text, extensions=["tables", "fenced_code"])
