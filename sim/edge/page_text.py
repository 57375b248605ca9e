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

from dataclasses import dataclass
from html import escape

import markdown

from sim.store.sources import load_sources

from .page_run import LEVER_BY_KEY, LEVERS, MONTHS_MAX, RU_EXPLAINED, SEED_MAX, control, get, scenario

#: What each actor decides each month, in a sentence (update with the decision rules in docs/ODD.md).
ACTORS: dict[str, str] = {
    "Regime": (
        "arrests new political prisoners at a rate that rises with opposition mobilisation and with the "
        "price it has learned a prisoner fetches; now and then pardons a small batch of ordinary prisoners; "
        "and in a bargaining round accepts a deal only if the relief is worth more to it than the prisoners "
        "it gives up (their value for keeping control at home plus what they could fetch later), keeping "
        "high-profile and Polish- or Lithuanian-tied prisoners in reserve."
    ),
    "United States": (
        "opens a bargaining round about one month in three while a special envoy is in place; in a round it "
        "offers a tranche of relief sector by sector (aviation, potash, banking, other), and the deal - how "
        "many and which prisoners against which relief - is the Nash bargaining solution that splits the "
        "gains between the two sides. Its policy sets the terms: conditional adds an arrest-restraint "
        "clause, snapback re-imposes relief if arrests spike after a deal, maximum pressure makes no deals, "
        "grand bargain offers most sanctions for all prisoners at once."
    ),
    "European Union": (
        "decides once a year, at its renewal in February: a firm EU relaxes its sanctions only when almost "
        "no one is held and arrests have stopped for months; a relaxed EU follows US relief part of the way. "
        "It also decides whether Belarusian potash may transit Lithuanian and Polish ports: while they are "
        "closed, US potash relief is worth only a fraction to the regime."
    ),
    "Opposition": (
        "mobilises in response to arrests (grievance) and is deterred by them, drifting back to a baseline; "
        "expelled prisoners join the exiles, and released symbols may found new centres of legitimacy, which "
        "fragments the opposition and weakens its lobbying to keep EU sanctions."
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
        "Do deals still happen? Are there more or fewer arrests than when the US pays for releases? Which "
        "way does the learned price go?",
    ),
    Experiment(
        "Pay only for restraint",
        ("us_policy", "restraint"),
        "Set {us_policy} to *conditional* and press **Reset**; run to the end. Then try {restraint} at 0 % "
        "and at 100 %.",
        "What happens to arrests in the months after a conditional deal? How does the revolving-door ratio "
        "compare with the baseline, and with no restraint at all?",
    ),
    Experiment(
        "Open the Baltic ports",
        ("transit",),
        "Set {transit} to *open*, press **Reset** and run to the end.",
        "Look at the deal log: do deals release more or fewer prisoners than with the ports closed? Why "
        "would the same US relief buy more?",
    ),
    Experiment(
        "The price of a prisoner",
        ("us_price",),
        "Run once with {us_price} low (0.5 RU) and once high (3 RU), each time pressing **Reset**.",
        "With which price are more prisoners released in deals? What does the regime learn (the learned "
        "price), and what happens to the revolving-door ratio?",
    ),
    Experiment(
        "Take away the price effect",
        ("price_effect",),
        "Set {price_effect} to 0, press **Reset** and step until a deal appears in the log; then try it at "
        "its largest value.",
        "Watch the expected arrests on the learned-price chart in the month of a deal: does it jump? With "
        "the price effect at 0, what still moves it?",
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
        "What happens to EU sanctions and to the relief the regime enjoys? Are more prisoners released in "
        "deals than with a firm EU?",
    ),
)

NOTICE = (
    "Deals release dozens of prisoners at once, yet the number held falls little: arrests go on month after "
    "month, and the revolving-door ratio (arrests per release) stays close to 1.",
    "The learned price jumps at each deal and fades between deals; the expected arrests a month follow it "
    "(the learned-price chart).",
    "US relief runs out: once the sanctions on the table are lifted, rounds bring no more deals (the "
    "sanctions chart).",
    "A firm EU hardly ever relaxes: its conditions (almost nobody held, no arrests for months) are far from "
    "what the regime does.",
    "High-profile prisoners and those tied to Poland or Lithuania are released last: the regime keeps them "
    "in reserve for later rounds.",
    "Every run is one possible history. The same seed repeats it exactly; another seed tells another story.",
)

LIMITS = (
    "The numbers are informed guesses around a handful of figures from five news and analysis articles of "
    "December 2025, with a few parameters fitted to them (the calibration). The model explores scenarios; it "
    "does not forecast.",
    "Only the United States bargains for prisoners. Lithuania, Poland or a mediator appear only through the "
    "value the regime puts on prisoners tied to them.",
    "The regime keeps the promises of a conditional deal (it does not cheat), and it does not anticipate "
    "that sanctions may snap back.",
    "Relief is counted in RU, a unit of this model: one RU is the relief per prisoner of the December 2025 "
    "deal. It is not dollars.",
    "The strength of the price effect comes from studies of terrorist kidnappings in many countries, not "
    "from Belarus.",
    "One step is a month; there is no geography, and the opposition is one group with a level of "
    "mobilisation, not many people deciding for themselves.",
)

EXTEND = (
    "**Actors that decide.** The next version makes arrests a choice of the regime (control value, expected "
    "chip value, expected costs), gives the US an objective, lets Lithuania, Poland and a mediator bargain, "
    "adds Russia as the regime's outside option, and models the opposition's mobilisation with individual "
    "thresholds (Granovetter 1978; Epstein 2002). docs/ODD.md describes the model as it is.",
    "**A new lever on this page**: add one line to `LEVERS` in `sim/edge/page_run.py` (its dotted parameter "
    "name, a label and a sentence); the slider's range, step and unit come from the schema in "
    "`sim/core/params.py`.",
    "**A new scenario**: a YAML file in `conf/scenario/` with a question (`description`) and the parameters "
    "it changes; it appears in the page's scenario list and in `sim-run scenario=...`.",
    "**Another country**: every number is a parameter with a unit and a source; a case is a set of values "
    "(start month, stock, arrest rate, sanctions) and figures to calibrate against.",
    "**Many runs at once**: `sim-run` runs hundreds of replicates with bands, and sweeps over levers "
    "(notebooks 02 and 03).",
)

PAPERS = (
    "Brandt, P. T., George, J. & Sandler, T. (2016). Why concessions should not be made to terrorist "
    "kidnappers. *European Journal of Political Economy* 44, 41-52. (Concessions were followed by 26-87 % "
    "more kidnappings: the prior for the price effect.)",
    "Nash, J. F. (1950). The bargaining problem. *Econometrica* 18(2), 155-162. (The bargaining rule of a "
    "deal.)",
    "Grimm, V. et al. (2006). A standard protocol for describing individual-based and agent-based models. "
    "*Ecological Modelling* 198, 115-126; and Grimm, V. et al. (2020). The ODD protocol for describing "
    "agent-based and other simulation models: a second update. *JASSS* 23(2), 7. (How the model is "
    "described.)",
    "Granovetter, M. (1978). Threshold models of collective behavior. *American Journal of Sociology* 83(6), "
    "1420-1443; Epstein, J. M. (2002). Modeling civil violence: an agent-based computational approach. "
    "*PNAS* 99(suppl. 3), 7243-7250. (For the opposition of the next version.)",
)


def _levers_md() -> str:
    base = scenario("baseline")
    lines = []
    for lv in LEVERS:
        value = get(base.params, lv.name)
        c = control(lv, value)
        if c.choices is not None:
            what = f"one of {', '.join(f'*{x}*' for x in c.choices)}"
        else:
            what = f"{c.text(c.lo)} to {c.text(c.hi)} on the slider"
        lines.append(
            f"- **{lv.label}** ({what}; baseline {c.text(value)}; source: {escape(c.source)}). "
            f"{lv.plain} *Parameter `{lv.name}`.*"
        )
    return "\n".join(lines)


def _scenarios_md(names: list[str]) -> str:
    return "\n".join(f"- *{n}*: {escape(scenario(n).question.strip())}" for n in names)


def _seed_documents_md() -> str:
    lines = []
    for file, d in load_sources().items():
        who = d.get("publisher") or d.get("kind", "")
        lines.append(
            f"- {escape(str(d.get('kind', '')))}, {escape(str(d.get('published', '')))}"
            f"{', ' + escape(str(who)) if who and who != d.get('kind') else ''}: "
            f"{escape(str(d.get('about', '')))} (`{file}`)"
        )
    return "\n".join(lines)


def info_markdown(scenario_names: list[str]) -> str:
    """The whole Info panel as Markdown."""
    actors = "\n".join(f"- **{who}** {what}" for who, what in ACTORS.items())
    experiments = "\n".join(
        f"{i}. **{e.title}.** {e.text()} *Look for:* {e.look_for}" for i, e in enumerate(EXPERIMENTS, 1)
    )
    bullet = "\n".join
    return f"""
## What is it?

*Bargaining chips* is an agent-based model of **repression as bargaining**. An authoritarian regime holds
political prisoners. It can release some of them in exchange for sanctions relief from the United States,
and it can arrest new ones. The reference case is Belarus after 123 political prisoners were released on
13 December 2025; every number is a parameter, so the same model can describe other regimes. The question
it explores: when releases are rewarded, does the regime refill its prisons - a *revolving door*?

## How it works

**The stock.** Each prisoner is an individual with an arrest month, a sentence, a profile (ordinary,
notable, or a high-profile symbol such as a Nobel laureate), ties to Lithuania, Poland, the US or Ukraine,
and health. Each month: *held next month = held now + arrests - releases (deals, pardons, sentences served)
- deaths in custody*.

**The learned price.** After each deal the regime updates the price it has learned a prisoner fetches: it
moves part of the way towards the relief it got per prisoner (counted in ordinary-prisoner equivalents: a
symbol is worth many ordinary prisoners). Without deals the learned price fades. The expected arrests follow
the learned price: the higher the price, the more arrests (the *price effect*).

**The actors, each month, in this order** (the order of a month: economic need; sentences served and deaths;
pardons; the EU; the US and any deal; arrests; the opposition):

{actors}

## How to use it

- **Reset** builds a new run from the settings; **Play** runs month after month (press again to pause);
  **Step** runs one month. **Changes to the settings apply when you press Reset**: until then the page
  lists the changes that are waiting.
- **Scenario**: each asks a question; its settings fill the levers. The values are those `sim-run` uses
  (the scenario with the calibration applied).
- **Levers** (each slider shows its value and unit):

{_levers_md()}

- **Seed**: the run's random numbers. The same seed and settings give the same run; another seed gives
  another possible history. A whole number from 0 to {SEED_MAX}; text is refused, so every run can be
  repeated with `sim-run seed=N`.
- **Months to run**: how long the run lasts (up to {MONTHS_MAX} months); the page says when the run has
  ended.
- **RU**: {RU_EXPLAINED}
- **Monitors**: the month; prisoners held at its end; arrests and releases (deals, pardons, sentences served)
  in the month; the revolving-door ratio (arrests per release since the start: near 1, the regime refills
  the prisons as fast as they empty); the learned price (RU per ordinary-prisoner equivalent); deals so far.
- **Charts**: prisoners held; arrests against releases, added up since the start, with each deal's releases
  as bars; sanctions in force (the US in total and by sector, the EU); the learned price and the expected
  arrests a month.
- **Download this run**: a zip of CSV tables (months, deals, outcomes), every setting with the seed, and a
  data dictionary with units; its README gives the `sim-run` command that repeats the run.

Scenarios:

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
`seeds/figures.csv`, described in `seeds/sources.yaml`):

{_seed_documents_md()}

Papers:

{bullet(f"- {x}" for x in PAPERS)}

The full model description, in the ODD protocol, is **docs/ODD.md** (open it with the button below, or in
the project folder).
"""


def to_html(text: str) -> str:
    """Markdown to HTML (on the server: nothing is fetched by the browser)."""
    return markdown.markdown(text, extensions=["tables", "fenced_code"])
