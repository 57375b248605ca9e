"""Cases as data: every case loads and runs, its monitor's definition is honoured, its numbers name sources.

Nicaragua, Cuba and Venezuela beside Belarus (conf/case/, seeds/<case>/, conf/timeline/, conf/calibration/).
Each mechanism test switches the behaviour off in a copy of the case and checks the outcome changes.
"""

from __future__ import annotations

import math
import re
import shutil

import numpy as np
import pytest
import yaml

from sim.analysis.observed import monthly_series
from sim.core.calendar import month_index, month_text
from sim.core.model import RepressionBargaining
from sim.core.params import ParamError
from sim.core.prisoners import Status
from sim.core.run import run_model, run_replicates
from sim.core.timeline import TimelineError
from sim.edge.calibrate import prepare
from sim.store.calibrations import load_config
from sim.store.cases import case_params, cases
from sim.store.paths import CONF_DIR
from sim.store.sources import load_figures, load_monitoring, load_provenance
from sim.store.timelines import TIMELINE_DIR, case_records, load_timeline

NEW = ("nicaragua", "cuba", "venezuela")
CITATION = re.compile(r"\b(record|seeds):([a-z0-9_]+)")


def test_the_four_cases_are_data():
    assert {"belarus", *NEW} <= set(cases())


@pytest.mark.parametrize("case", sorted(cases()))
def test_every_case_loads_and_runs_a_few_months(case):
    params = case_params(case, "baseline")
    assert params.case.name == case and params.case.monitor.strip()
    present = params.counterparts()
    assert present, "a case has at least one counterpart"
    res = run_replicates(params, months=4, replicates=2, seed=5)
    ts = res.timeseries
    assert len(ts) == 8
    assert (ts["prisoners_held"] >= ts["in_prison"]).all()
    for name, c in present.items():
        for instrument in c.instruments:
            assert f"level_{name}_{instrument}" in ts.columns
    if case in NEW:
        assert not {"eu", "lithuania", "poland"} & set(present), "Belarus's counterparts stay in Belarus"


@pytest.mark.parametrize("case", NEW)
def test_a_case_starts_from_the_end_of_its_record(case):
    """A forward run starts the month after the record's cut-off (the forecast origin), from its last
    stock."""
    params = case_params(case, "baseline")
    cut_off = load_provenance(case)["monitoring.csv"]["cut_off"]
    assert params.start == month_text(month_index(cut_off) + 1)
    observed = monthly_series(load_monitoring(case), cut_off)
    last = observed["prisoners_held"].dropna()
    assert params.population.initial_stock == int(last.iloc[-1])


@pytest.mark.parametrize("case", sorted(cases()))
def test_every_number_cited_from_the_data_exists(case):
    """`record:<id>` and `seeds:<id>` in a case's files name rows of its own data."""
    records = set(case_records(case)["id"])
    try:
        figures = set(load_figures(case)["id"])
    except Exception:  # noqa: BLE001 - a case without figures cites none
        figures = set()
    files = [CONF_DIR / "case" / f"{case}.yaml", CONF_DIR / "calibration" / f"{case}.yaml"]
    cited = 0
    for path in files:
        if not path.is_file():
            continue
        for kind, ident in CITATION.findall(path.read_text(encoding="utf-8")):
            assert ident in (records if kind == "record" else figures), f"{path.name}: {kind}:{ident}"
            cited += 1
    assert cited > 0


@pytest.mark.parametrize("case", NEW)
def test_figures_are_read_from_the_record_row_they_name(case):
    """Each figure of a new case is a value of the shared data: the record row it names holds it (as its value
    or in its note)."""
    rows = load_monitoring(case).set_index("id")
    for fig in load_figures(case).itertuples():
        named = CITATION.findall(fig.measures)
        assert named and all(k == "record" for k, _ in named), fig.id
        row = rows.loc[named[0][1]]
        as_text = f"{fig.value:g}"
        assert float(row["number"]) == fig.value or re.search(rf"\b{as_text}\b", row["note"]), fig.id


# ------------------------------------------------------------------------------------------------ monitors
def _cuba_replay(**changes):
    """Cuba from December 2024 through the January 2025 deal (553 released on parole), replayed as a fact."""
    params = case_params("cuba", "baseline", start="2024-12", **changes)
    return run_model(params, 3, seed=4, events=load_timeline("cuba"), replay_until="2025-01")


def test_cuba_list_counts_parolees_and_the_prisons_do_not():
    params = case_params("cuba", "baseline")
    assert params.case.counts_parole and params.us.parole and params.us.expel_share == 0.0
    m = _cuba_replay(**{"regime.rearrest_hazard": 0.0})
    out = m.out
    gap = out["prisoners_held"] - out["in_prison"]
    assert gap[0] == 0, "no parolee before the deal"
    paroled = out["paroled"][1]
    assert paroled == 553 and m.deals[0]["paroled"] == 553
    assert out["released_deal"][1] == 0, "a parole does not take anyone off the list"
    reg, t1 = m.registry, m.t0 + 1
    n = reg.n
    ended = int((reg.parole[:n] & (reg.release[:n] == t1) & (reg.due[:n] <= t1)).sum())
    assert ended < 20
    assert gap[1] == paroled - ended, (
        "the list keeps the parolees whose sentence runs on; the prisons lose them"
    )
    assert out["in_prison"][1] < out["in_prison"][0] - 400
    assert out["prisoners_held"][1] > out["prisoners_held"][0] - 100
    # the same release under a monitor that counts only the people held (Foro Penal's definition)
    m2 = _cuba_replay(**{"regime.rearrest_hazard": 0.0, "case.counts_parole": False})
    assert (m2.out["prisoners_held"] == m2.out["in_prison"]).all()


def test_cuba_parolees_can_be_arrested_again():
    m = _cuba_replay(**{"regime.rearrest_hazard": 0.2})
    assert m.out["rearrests"][2] > 50, "a fifth of the 553 parolees a month"
    reg = m.registry
    n = reg.n
    paroled = np.flatnonzero(reg.parole[:n])
    again = np.isin(reg.person[:n], reg.person[paroled]) & (reg.status[:n] == Status.HELD)
    assert again.sum() >= m.out["rearrests"][2]
    m0 = _cuba_replay(**{"regime.rearrest_hazard": 0.0})
    assert m0.out["rearrests"].sum() == 0


def _nicaragua_february_2023(**changes):
    """Nicaragua from January 2023 (245 on MRPPP's list) through the expulsion of 222 to the US."""
    params = case_params(
        "nicaragua", "baseline", start="2023-01", **{"population.initial_stock": 245, **changes}
    )
    return run_model(params, 3, seed=2, events=load_timeline("nicaragua"), replay_until="2023-02")


def test_nicaragua_expelled_prisoners_lose_their_nationality_and_cannot_be_rearrested():
    m = _nicaragua_february_2023(**{"regime.rearrest_hazard": 1.0})
    deal = next(d for d in m.deals if d["month"] == "2023-02")
    assert deal["released"] == deal["expelled"] == deal["denationalised"] == deal["to_us"] == 222
    reg = m.registry
    n = reg.n
    expelled = (reg.status[:n] == Status.DEAL) & (reg.dest[:n] > 0)
    assert expelled.sum() == 222 and reg.denationalised[:n][expelled].all()
    held_persons = reg.person[:n][reg.status[:n] == Status.HELD]
    assert not np.isin(reg.person[:n][expelled], held_persons).any(), "nobody expelled is arrested again"


def test_nicaragua_us_deals_expel_and_denationalise_when_the_actors_decide():
    params = case_params("nicaragua", "nicaragua_us_engages")
    assert params.us.denationalise and params.us.expel_share == 1.0 and not params.holy_see.denationalise
    deals = run_replicates(params, months=24, replicates=6, seed=3).deals
    us = deals[deals["counterpart"] == "us"]
    assert len(us) > 0 and (us["expelled"] == us["released"]).all()
    assert (us["denationalised"] == us["expelled"]).all()
    assert (us["to_us"] + us["to_guatemala"] + us["to_vatican"] == us["expelled"]).all()
    see = deals[deals["counterpart"] == "holy_see"]
    assert (see["denationalised"] == 0).all()


def test_venezuela_a_revoked_licence_lowers_the_relief_in_force():
    """The record replayed from March 2022: General License 44 granted with the October 2023 deal, revoked in
    April 2024; the gold licence granted in October 2023 and revoked in January 2024."""
    base = load_config("venezuela")["base"]
    m = run_model(base, 28, seed=1, events=load_timeline("venezuela"), replay_until="2024-06")
    months = [month_text(m.t0 + i) for i in range(m.recorded)]

    def at(column, month):
        return float(m.out[column][months.index(month)])

    assert at("level_us_oil_licence", "2023-09") == 1.0 and at("level_us_oil_licence", "2023-10") == 0.0
    assert at("level_us_oil_licence", "2024-04") == 1.0, "revoked"
    relief = {mo: at("regime_relief", mo) for mo in ("2023-09", "2023-12", "2024-01", "2024-03", "2024-04")}
    assert relief["2023-09"] == 0.0 and relief["2023-12"] > 0
    assert relief["2024-01"] < relief["2023-12"], "the gold licence revoked"
    assert relief["2024-04"] < 0.5 * relief["2024-03"], "the oil licence revoked"
    assert m.regime.revocation["us"] > case_params("venezuela").regime.revocation_prior, "the regime learns"


# ------------------------------------------------------------------------------------------------ timelines
@pytest.mark.parametrize("case", sorted(cases()))
def test_every_timeline_loads_against_its_case_file_with_no_names_block(case):
    path = TIMELINE_DIR / f"{case}.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert set(raw) == {"case", "events"}
    events = load_timeline(case)
    params = case_params(case, None)
    allowed = {*params.counterparts(), *params.case.outside}
    assert {e.counterpart for e in events if e.counterpart} <= allowed


def test_a_timeline_with_its_own_names_is_refused(tmp_path):
    path = tmp_path / "cuba.yaml"
    shutil.copy(TIMELINE_DIR / "cuba.yaml", path)
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("events:", "names:\n  counterparts: [us]\n  destinations: [stayed]\nevents:", 1),
        encoding="utf-8",
    )
    with pytest.raises(TimelineError) as err:
        load_timeline("cuba", path=path)
    assert "names" in str(err.value) and "conf/case" in str(err.value) and "\n" not in str(err.value)


# ------------------------------------------------------------------------------------------------ calibration
@pytest.mark.parametrize("case", NEW)
def test_each_case_has_its_own_calibration_that_replays_its_record(case):
    cfg = load_config(case)
    assert cfg["case"] == case and cfg["base"].case.name == case
    observed, summaries, _, sim = prepare(cfg)
    first = observed.dropna(subset=["prisoners_held"]).iloc[0]
    assert first["month"] == cfg["base"].start
    assert int(first["prisoners_held"]) == cfg["base"].population.initial_stock
    assert not summaries.dropped
    simulated = sim({}, 1)
    assert set(simulated) == set(summaries.observed) and all(math.isfinite(v) for v in simulated.values())


# ------------------------------------------------------------ scenarios that fit, parolees on the list
def test_a_scenario_naming_instruments_the_case_lacks_is_refused():
    with pytest.raises(ParamError) as err:
        case_params("nicaragua", "us_maximum_pressure")
    assert "aviation" in str(err.value) and "\n" not in str(err.value)


def test_parolees_leave_the_list_when_rearrested_or_when_their_sentence_ends():
    params = case_params(
        "cuba", "baseline", **{"us.engaged": True, "us.contact_hazard": 0.3, "regime.rearrest_hazard": 0.02}
    )
    m = RepressionBargaining(params, months=60, rng=3).run()
    reg, t = m.registry, m.t - 1
    n = reg.n
    on_parole = (
        reg.parole[:n] & (reg.status[:n] != Status.HELD) & reg._last_spell() & (reg.due[:n] > t)
    ).sum()
    assert m.out["prisoners_held"][-1] == m.out["in_prison"][-1] + on_parole


def _flows_balance(out, stock: str, inflow, outflows) -> np.ndarray:
    """Months in which ``stock`` is not last month's plus the inflow minus the outflows."""
    change = np.diff(out[stock])
    return np.flatnonzero(change != inflow[1:] - sum(outflows)[1:])


def test_the_list_and_the_prisons_each_balance_their_flows():
    """Cuba with paroles and re-arrests: the monitor's list moves by arrests onto it less releases off it (a
    parole moves nobody off the list, a re-arrested parolee nobody onto it); under a monitor that counts only
    the people held, the same columns are the prisons' flows. Both balance exactly, every month."""
    params = case_params(
        "cuba", "baseline", **{"us.engaged": True, "us.contact_hazard": 0.3, "regime.rearrest_hazard": 0.05}
    )
    m = RepressionBargaining(params, months=48, rng=3).run()
    o = {k: np.asarray(v, dtype=np.int64) for k, v in m.out.items()}
    assert o["paroled"].sum() > 100 and o["rearrests"].sum() > 50
    off_list = [o["released_deal"], o["released_pardon"], o["released_served"], o["died"]]
    assert _flows_balance(o, "prisoners_held", o["arrests"], off_list).size == 0
    # a monitor that counts only the people held: the same run's flows are the prisons' flows
    m2 = RepressionBargaining(params.replace(**{"case.counts_parole": False}), months=48, rng=3).run()
    o2 = {k: np.asarray(v, dtype=np.int64) for k, v in m2.out.items()}
    assert (o2["prisoners_held"] == o2["in_prison"]).all()
    out_of_prison = [o2["released_deal"], o2["released_pardon"], o2["released_served"], o2["died"]]
    assert _flows_balance(o2, "in_prison", o2["arrests"], out_of_prison).size == 0


def test_a_crackdown_decays_towards_its_floor():
    """Venezuela's 2024 wave: the multiplier falls from its onset towards the event's floor, not to 1."""
    from sim.core.timeline import Event

    params = case_params("venezuela", "baseline").replace(start="2024-07")
    wave = dict(month="2024-07", type="crackdown", multiplier=20.0, half_life_months=1.0, cause="test",
                source="test", confidence="H")  # fmt: skip
    runs = {}
    for floor in (1.0, 8.0):
        m = RepressionBargaining(params, months=12, rng=1, events=[Event(**wave, floor=floor)]).run()
        runs[floor] = m.out["crackdown"]
    assert runs[8.0][-1] == pytest.approx(8.0, abs=0.05) and runs[1.0][-1] == pytest.approx(1.0, abs=0.05)
    assert runs[8.0][0] == runs[1.0][0] == 20.0


def test_a_mediators_recognition_can_be_given_again():
    """Nicaragua's Holy See: recognition lifted in a deal returns (recovery_months), so a later round can
    trade it again; without recovery it stays spent."""
    params = case_params("nicaragua", "baseline")
    assert params.holy_see.instruments["recognition"].recovery_months > 0
    for months, expect_back in ((3.0, True), (0.0, False)):
        p = params.replace(**{"holy_see.instruments.recognition.recovery_months": months})
        m = RepressionBargaining(p, months=1, rng=1)
        hs = m.counterparts["holy_see"]
        hs.set_levels(np.zeros_like(hs.level))  # spent in a deal
        for _ in range(12):
            hs.recover()
        assert bool(hs.level[0] > 0.9) is expect_back


def test_the_report_tells_the_list_from_the_prisons_where_the_monitor_keeps_parolees():
    """Cuba's report says how many were paroled and how many are in prison against on the list; Belarus's,
    whose monitor counts the people held, has no such line."""
    from sim.core.metrics import case_actors, outcomes, summarise
    from sim.views.report import run_report_text

    texts = {}
    for case, scenario in (("cuba", "cuba_us_engages"), ("belarus", "baseline")):
        params = case_params(case, scenario, **({"us.contact_hazard": 0.5} if case == "cuba" else {}))
        res = run_replicates(params, 24, 6, seed=2)
        table = outcomes(res.timeseries, res.deals)
        summary = {
            "scenario": scenario, "replicates": 6, "months": 24, "start": params.start, "end": "-", "seed": 2,
            "actors": case_actors(params), "outcomes": summarise(table), "share_with_deal": 1.0,
        }  # fmt: skip
        texts[case] = run_report_text(summary, [])
        if case == "cuba":
            assert table["paroled"].sum() > 0
            assert (table["in_prison_end"] <= table["final_stock"]).all()
    assert "**Parole:**" in texts["cuba"] and "on the list" in texts["cuba"]
    assert "**Parole:**" not in texts["belarus"]
