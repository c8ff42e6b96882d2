"""Hostile and broken SBML: every bad file ends in one clear line of SBMLError naming the file (and the line
libsbml gives), never a traceback, a crash of the interpreter or a hang; valid files are not refused."""
from __future__ import annotations

import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import fentonsim
from conftest import SHARED, require_module
from fentonsim import compile_network, simulate
from fentonsim.cli import main
from fentonsim.errors import FentonsimError
from fentonsim.sbml import SBMLError
from fentonsim.sbml.importer import MAX_MATH_DEPTH, MAX_STOICHIOMETRY

pytestmark = pytest.mark.usefixtures("libsbml")

MATHML = 'xmlns="http://www.w3.org/1998/Math/MathML"'
SEMANTIC = SHARED / "validation" / "sbml-semantic" / "cases"


@pytest.fixture(scope="module")
def libsbml():
    return require_module("libsbml", "sbml")


def document(body, *, level=3, version=2, units='substanceUnits="mole" timeUnits="second" volumeUnits="litre"',
             compartment='<compartment id="cell" spatialDimensions="3" size="1" constant="true"/>', prolog="",
             head=""):
    """An SBML document; ``head`` goes before the compartments (Level 2 fixes the order of the lists)."""
    namespace = f"http://www.sbml.org/sbml/level{level}/version{version}" + ("/core" if level == 3 else "")
    return '<?xml version="1.0" encoding="UTF-8"?>' + prolog + textwrap.dedent(f"""
        <sbml xmlns="{namespace}" level="{level}" version="{version}">
          <model id="m" {units if level == 3 else ""}>
            {head}<listOfCompartments>{compartment}</listOfCompartments>
            {body}
          </model>
        </sbml>
        """)


def ci(name):
    return f"<ci> {name} </ci>"


def apply(op, *args):
    return f"<apply><{op}/>{''.join(args)}</apply>"


def call(function, *args):
    return f"<apply>{ci(function)}{''.join(args)}</apply>"


def functions(**bodies):
    """Function definitions of one argument `x` each, from their MathML bodies."""
    inner = "".join(f'<functionDefinition id="{name}"><math {MATHML}><lambda><bvar>{ci("x")}</bvar>{body}</lambda>'
                    "</math></functionDefinition>" for name, body in bodies.items())
    return f"<listOfFunctionDefinitions>{inner}</listOfFunctionDefinitions>"


def decay(law_math, *, stoichiometry="1", amount="1", k="0.5", extra=""):
    """X -> P at `law_math`, with the stoichiometry of X, its initial amount and k as given (strings)."""
    return (extra + '<listOfSpecies>'
            f'<species id="X" compartment="cell" initialAmount="{amount}" hasOnlySubstanceUnits="true" '
            'boundaryCondition="false" constant="false"/>'
            '<species id="P" compartment="cell" initialAmount="0" hasOnlySubstanceUnits="true" '
            'boundaryCondition="false" constant="false"/></listOfSpecies>'
            f'<listOfParameters><parameter id="k" value="{k}" constant="true"/></listOfParameters>'
            '<listOfReactions><reaction id="decay" reversible="false"><listOfReactants>'
            f'<speciesReference species="X" stoichiometry="{stoichiometry}" constant="true"/></listOfReactants>'
            '<listOfProducts><speciesReference species="P" stoichiometry="1" constant="true"/></listOfProducts>'
            f'<kineticLaw><math {MATHML}>{law_math}</math></kineticLaw></reaction></listOfReactions>')


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def assert_refused(path, *expected):
    """load raises SBMLError, one line, naming the file and each expected fragment."""
    with pytest.raises(SBMLError) as info:
        fentonsim.load(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(path)), message
    for fragment in expected:
        assert fragment in message, message
    return message


def run_cli(*args, timeout=120):
    """The CLI in a child process, so that a crash of the interpreter (segfault) fails the test, not the run."""
    return subprocess.run([sys.executable, "-m", "fentonsim", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)


def assert_cli_refuses(path, *expected):
    """`validate` (which reports on stdout) and `simulate` (stderr) exit 1 with one line naming the file."""
    for command in ("validate", "simulate"):
        extra = ["--t-end", "1", "--n-points", "2", "--out", f"{path}.csv", "--quiet"] if command == "simulate" else []
        done = run_cli(command, path, *extra)
        err = (done.stdout + done.stderr).strip()
        assert done.returncode == 1, (command, done.returncode, err[-500:])
        assert len(err.splitlines()) == 1 and str(path) in err and "Traceback" not in err, err
        for fragment in expected:
            assert fragment in err, err


# --------------------------------------------------------------------------- function definitions and nesting


def test_self_recursive_function_definition_is_refused_not_a_segfault(tmp_path):
    """f(x) = f(x) used in a kinetic law: validate and simulate exit 1 with one line naming f (they segfaulted)."""
    path = write(tmp_path, "self.xml", document(decay(apply("times", call("f", ci("k")), ci("X")),
                                                      extra=functions(f=call("f", ci("x"))))))
    message = assert_refused(path, "`f` calls itself")
    assert f"{path}:" in message  # the line of the definition
    assert_cli_refuses(path, "`f` calls itself")


def test_mutually_recursive_function_definitions_are_refused(tmp_path):
    """f calls g calls h calls f: refused naming the cycle, by the library and by the CLI."""
    defs = functions(f=call("g", ci("x")), g=call("h", ci("x")), h=apply("plus", call("f", ci("x")), "<cn> 1 </cn>"),
                     ok=ci("x"))
    path = write(tmp_path, "mutual.xml", document(decay(apply("times", call("ok", ci("k")), ci("X")), extra=defs)))
    message = assert_refused(path, "recursive", "f -> g -> h -> f")
    assert "expected" in message
    assert_cli_refuses(path, "recursive")


def test_non_recursive_nested_function_definitions_still_import(tmp_path):
    """g(x) = f(f(x)) with f(x) = x is valid and yields the law k·X (rate constant 0.5)."""
    defs = functions(f=ci("x"), g=call("f", call("f", ci("x"))))
    path = write(tmp_path, "nested.xml", document(decay(apply("times", call("g", ci("k")), ci("X")), extra=defs)))
    network = compile_network(fentonsim.load(path))
    assert network.rate_constants()[0] == pytest.approx(0.5)


def test_function_expansion_that_explodes_is_refused_quickly(tmp_path):
    """f1(x) = x·x, f_{n+1}(x) = f_n(f_n(x)): 2^40 terms once inlined — refused, before libsbml inlines it."""
    bodies = {"f1": apply("times", ci("x"), ci("x"))}
    for n in range(2, 41):
        bodies[f"f{n}"] = call(f"f{n - 1}", call(f"f{n - 1}", ci("x")))
    path = write(tmp_path, "laughs.xml", document(decay(apply("times", call("f40", ci("k")), ci("X")),
                                                        extra=functions(**bodies))))
    assert_refused(path, "expands", "terms")


def test_function_called_with_the_wrong_number_of_arguments_is_refused(tmp_path):
    """f takes one argument; f(k, k) is refused naming the call and the arity."""
    path = write(tmp_path, "arity.xml", document(decay(apply("times", call("f", ci("k"), ci("k")), ci("X")),
                                                       extra=functions(f=ci("x")))))
    assert_refused(path, "calls `f` with 2 arguments; expected 1")


def _nested_minus(levels, leaf):
    return "<apply><minus/>" * levels + leaf + "</apply>" * levels


def test_math_nested_past_the_limit_is_refused_and_below_it_imports(tmp_path):
    """A law nested MAX_MATH_DEPTH + 50 deep is refused naming the law; 150 deep (an even number of
    negations) imports as k·X."""
    deep = write(tmp_path, "deep.xml", document(decay(apply("times", _nested_minus(MAX_MATH_DEPTH + 50, ci("k")),
                                                              ci("X")))))
    assert_refused(deep, "kineticLaw of reaction `decay`", f"more than {MAX_MATH_DEPTH} levels")
    fine = write(tmp_path, "fine.xml", document(decay(apply("times", _nested_minus(150, ci("k")), ci("X")))))
    assert compile_network(fentonsim.load(fine)).rate_constants()[0] == pytest.approx(0.5)


def test_xml_nested_too_deep_for_libsbml_is_refused_not_a_segfault(tmp_path):
    """100,000 nested <apply> crash libsbml's recursive reader; the file is refused before libsbml sees it."""
    path = write(tmp_path, "abyss.xml", document(decay(apply("times", _nested_minus(100_000, ci("k")), ci("X")))))
    assert_refused(path, "nested more than")
    assert_cli_refuses(path, "nested more than")


def test_assignment_rules_that_expand_exponentially_are_refused(tmp_path):
    """y1 = k·k, y_{n+1} = y_n·y_n, law y40·X: 2^40 terms once rules are substituted — refused, promptly."""
    rules = "".join(f'<assignmentRule variable="y{n}"><math {MATHML}>'
                    + (apply("times", ci("k"), ci("k")) if n == 1 else apply("times", ci(f"y{n - 1}"), ci(f"y{n - 1}")))
                    + "</math></assignmentRule>" for n in range(1, 41))
    params = "".join(f'<parameter id="y{n}" constant="false"/>' for n in range(1, 41))
    body = decay(apply("times", ci("y40"), ci("X"))).replace(
        "</listOfParameters>", params + "</listOfParameters>") + f"<listOfRules>{rules}</listOfRules>"
    path = write(tmp_path, "rules.xml", document(body))
    assert_refused(path, "expands", "terms")


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize("value", ["NaN", "INF", "-INF", "1e300", str(MAX_STOICHIOMETRY + 1)])
def test_non_finite_or_enormous_stoichiometry_is_refused_naming_the_reaction(tmp_path, value):
    """Stoichiometry NaN, ±inf or beyond MAX_STOICHIOMETRY is refused naming reaction and species (NaN and
    inf raised ValueError/OverflowError tracebacks)."""
    path = write(tmp_path, "stoich.xml", document(decay(apply("times", ci("k"), ci("X")), stoichiometry=value)))
    assert_refused(path, "reaction `decay`", "stoichiometry of `X`", "expected a finite number from -")


def test_large_whole_product_stoichiometry_is_accepted(tmp_path):
    """A product stoichiometry of 1000 is a whole number within range and imports."""
    body = decay(apply("times", ci("k"), ci("X"))).replace(
        '<speciesReference species="P" stoichiometry="1"', '<speciesReference species="P" stoichiometry="1000"')
    network = compile_network(fentonsim.load(write(tmp_path, "big.xml", document(body))))
    assert network.net_stoich.max() == 1000


@pytest.mark.parametrize("law, reason", [
    pytest.param(apply("times", apply("divide", ci("k"), "<cn> 0 </cn>"), ci("X")), "division by zero", id="k/0"),
    pytest.param(apply("times", apply("divide", "<cn> 0 </cn>", "<cn> 0 </cn>"), ci("X")), "division by zero",
                 id="0/0"),
    pytest.param(apply("divide", apply("times", ci("k"), ci("X")), "<cn> 0 </cn>"), "division by zero",
                 id="kX/0"),
    pytest.param(apply("times", apply("exp", "<cn> 1000 </cn>"), ci("X")), "overflow", id="exp(1000)"),
    pytest.param(apply("times", apply("power", "<cn> 10 </cn>", "<cn> 400 </cn>"), ci("X")), "overflow",
                 id="10^400"),
    pytest.param(apply("times", apply("ln", "<cn> 0 </cn>"), ci("X")), "divide", id="ln(0)"),
])
def test_arithmetic_failure_in_a_kinetic_law_is_refused_naming_the_reaction(tmp_path, law, reason):
    """k/0, 0/0, (k·X)/0, exp(1000), 10^400 and ln(0) are refused naming the reaction (k/0 raised
    ZeroDivisionError)."""
    path = write(tmp_path, "arith.xml", document(decay(law)))
    message = assert_refused(path, "reaction `decay`")
    assert reason in message or "finite" in message, message


@pytest.mark.parametrize("k", ["NaN", "INF"])
def test_non_finite_rate_parameter_is_refused_naming_the_reaction(tmp_path, k):
    """A parameter k = NaN or inf makes the law's coefficient non-finite: refused naming the reaction."""
    assert_refused(write(tmp_path, "k.xml", document(decay(apply("times", ci("k"), ci("X")), k=k))),
                   "reaction `decay`", "finite")


@pytest.mark.parametrize("amount", ["NaN", "INF"])
def test_non_finite_initial_amount_is_refused_naming_the_species(tmp_path, amount):
    """A species starting at NaN or inf is refused naming it."""
    assert_refused(write(tmp_path, "x0.xml", document(decay(apply("times", ci("k"), ci("X")), amount=amount))),
                   "species `X`", "finite")


@pytest.mark.parametrize("size", ["0", "NaN", "INF", "-1"])
def test_degenerate_compartment_size_is_refused(tmp_path, size):
    """A concentration model in a compartment of size 0, NaN, inf or −1 is refused naming the compartment
    (size 0 raised ZeroDivisionError)."""
    body = decay(apply("times", ci("k"), ci("X"))).replace('hasOnlySubstanceUnits="true"',
                                                          'hasOnlySubstanceUnits="false"')
    compartment = f'<compartment id="cell" spatialDimensions="3" size="{size}" constant="true"/>'
    assert_refused(write(tmp_path, "size.xml", document(body, compartment=compartment)), "compartment `cell`")


# --------------------------------------------------------------------------- Level 2 predefined units


def _level2(extra_units="", species_units="substance", compartment_units="volume"):
    return document(
        "<listOfSpecies>"
        f'<species id="X" compartment="cell" initialConcentration="2" substanceUnits="{species_units}"/>'
        f'<species id="P" compartment="cell" initialConcentration="0" substanceUnits="{species_units}"/>'
        '</listOfSpecies><listOfParameters><parameter id="k" value="0.5"/></listOfParameters>'
        '<listOfReactions><reaction id="decay" reversible="false"><listOfReactants>'
        '<speciesReference species="X"/></listOfReactants><listOfProducts><speciesReference species="P"/>'
        f'</listOfProducts><kineticLaw><math {MATHML}>{apply("times", ci("cell"), ci("k"), ci("X"))}</math>'
        "</kineticLaw></reaction></listOfReactions>",
        level=2, version=4, compartment=f'<compartment id="cell" size="3" units="{compartment_units}"/>',
        head=extra_units)


def test_level_2_predefined_substance_and_volume_mean_mole_and_litre(tmp_path):
    """L2 `substance` and `volume` (not redefined) are mole and litre: [X] = 2 M decays as 2·e^{−kt}."""
    path = write(tmp_path, "l2.xml", _level2())
    model = fentonsim.load(path)
    assert model.defaults.volume == pytest.approx(3.0)
    result = simulate(path, t_eval=[0.0, 2.0], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(result.concentration.sel(species="X").values, 2 * np.exp([0.0, -1.0]), rtol=1e-8)


def test_level_2_redefined_substance_is_honoured(tmp_path):
    """A unitDefinition `substance` of millimole overrides the default: [X] = 2 mM."""
    units = ('<listOfUnitDefinitions><unitDefinition id="substance"><listOfUnits>'
             '<unit kind="mole" scale="-3"/></listOfUnits></unitDefinition></listOfUnitDefinitions>')
    model = fentonsim.load(write(tmp_path, "mmol.xml", _level2(units)))
    assert dict(model.defaults.initial)["X"] == pytest.approx(2e-3)


def test_level_2_predefined_unit_of_the_wrong_dimension_is_refused_with_file_and_line(tmp_path):
    """substanceUnits="area" (an L2 predefined unit, but not an amount) is refused at the species' line."""
    path = write(tmp_path, "area.xml", _level2(species_units="area"))
    message = assert_refused(path, "species `X`", "`area`", "expected mole or item")
    assert message.startswith(f"{path}:")  # the line, not just the file


def test_level_2_semantic_suite_cases_using_substance_now_import_or_refuse_other_constructs():
    """Every Level-2-only semantic case that uses the predefined `substance` either imports or is refused for
    another construct, with file:line (all 25 were refused for the unit, without a line)."""
    cases = sorted(SEMANTIC.glob("*/*-sbml-l2v*.xml"))
    if not cases:
        pytest.skip(f"the SBML semantic suite is not at {SEMANTIC}")
    using = [p for p in cases if 'Units="substance"' in p.read_text(encoding="utf-8")]
    assert using
    for path in using:
        try:
            fentonsim.load(path)
        except SBMLError as exc:
            message = str(exc)
            assert "unit `substance`" not in message and message.startswith(f"{path}:"), message


# --------------------------------------------------------------------------- XML entities


def test_external_entity_is_refused_and_never_read(tmp_path):
    """An external entity naming a local file is refused as such; the file's content appears nowhere."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT", encoding="utf-8")
    prolog = f'\n<!DOCTYPE sbml [<!ENTITY xxe SYSTEM "file://{secret}">]>'
    text = document(decay(apply("times", ci("k"), ci("X"))), prolog=prolog).replace('<model id="m"',
                                                                                   '<model id="m" name="&xxe;"')
    path = write(tmp_path, "xxe.xml", text)
    message = assert_refused(path, "external XML entity `xxe`")
    assert "TOP-SECRET" not in message


def test_entity_expansion_bomb_is_refused_promptly(tmp_path):
    """Ten levels of ten-fold entities (10^10 characters) are refused at the first declaration."""
    entities = '<!ENTITY e0 "aaaaaaaaaa">' + "".join(
        f'<!ENTITY e{i} "{("&e%d;" % (i - 1)) * 10}">' for i in range(1, 10))
    text = document(decay(apply("times", ci("k"), ci("X"))), prolog=f"\n<!DOCTYPE sbml [{entities}]>").replace(
        '<model id="m"', '<model id="m" name="&e9;"')
    assert_refused(write(tmp_path, "bomb.xml", text), "XML entity `e0`")


# --------------------------------------------------------------------------- fuzz


NUMBERS = ["1", "2", "0", "-1", "2.5", "NaN", "INF", "-INF", "1e300", "1e-300", "1e7"]
LAWS = {
    "mass action": apply("times", ci("k"), ci("X")),
    "via f": apply("times", call("f", ci("k")), ci("X")),
    "recursive g": apply("times", call("g", ci("k")), ci("X")),
    "k/0": apply("times", apply("divide", ci("k"), "<cn> 0 </cn>"), ci("X")),
    "X/0": apply("divide", ci("X"), "<cn> 0 </cn>"),
    "exp(1e3)": apply("times", apply("exp", "<cn> 1000 </cn>"), ci("X")),
    "k^1e300": apply("times", apply("power", ci("k"), "<cn> 1e300 </cn>"), ci("X")),
    "X^nan": apply("times", ci("k"), apply("power", ci("X"), "<notanumber/>")),
    "X^1e300": apply("times", ci("k"), apply("power", ci("X"), "<cn> 1e300 </cn>")),
    "(-1)^0.5": apply("times", apply("power", "<cn> -1 </cn>", "<cn> 0.5 </cn>"), ci("X")),
    "ln(-k)": apply("times", apply("ln", apply("minus", ci("k"))), ci("X")),
    "-k": apply("times", apply("minus", ci("k")), ci("X")),
    "deep": apply("times", _nested_minus(MAX_MATH_DEPTH + 2, ci("k")), ci("X")),
    "inf": apply("times", "<infinity/>", ci("X")),
}
FUNCTIONS = {
    "none": "",
    "plain": functions(f=apply("times", ci("x"), "<cn> 2 </cn>")),
    "recursive": functions(f=ci("x"), g=call("g", ci("x"))),
    "mutual": functions(f=call("g", ci("x")), g=call("f", ci("x"))),
}


VALID = {"stoichiometry": "1", "amount": "1", "k": "0.5", "law": "mass action", "defs": "plain", "size": "1"}
CHOICES = {"stoichiometry": NUMBERS, "amount": NUMBERS, "k": NUMBERS, "law": sorted(LAWS), "defs": sorted(FUNCTIONS),
           "size": ["1", "0", "-1", "NaN", "INF", "1e-300", "1e300"]}
MUTATION = st.sampled_from(sorted(CHOICES)).flatmap(lambda field: st.tuples(st.just(field),
                                                                            st.sampled_from(CHOICES[field])))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutations=st.lists(MUTATION, max_size=3), concentration=st.booleans())
def test_mutated_models_load_or_are_refused_naming_the_file(tmp_path, mutations, concentration):
    """A small valid model with up to three of stoichiometry, initial amount, k, kinetic law, function
    definitions and compartment size mutated (nan, inf, huge, negative, recursive, k/0, too deep): load
    succeeds (and the network compiles to finite numbers) or raises a FentonsimError of one line naming the
    file — nothing else, and no crash. The unmutated model always loads."""
    chosen = {**VALID, **dict(mutations)}
    body = decay(LAWS[chosen["law"]], stoichiometry=chosen["stoichiometry"], amount=chosen["amount"], k=chosen["k"],
                 extra=FUNCTIONS[chosen["defs"]])
    if concentration:
        body = body.replace('hasOnlySubstanceUnits="true"', 'hasOnlySubstanceUnits="false"')
    compartment = f'<compartment id="cell" spatialDimensions="3" size="{chosen["size"]}" constant="true"/>'
    path = write(tmp_path, "fuzz.xml", document(body, compartment=compartment))
    try:
        model = fentonsim.load(path)
    except FentonsimError as exc:
        message = str(exc)
        assert chosen != VALID, message
        assert str(path) in message and "\n" not in message, message
        return
    network = compile_network(model)
    assert np.all(np.isfinite(network.rate_constants()))
    assert np.all(np.isfinite(network.initial_state()))
    assert math.isfinite(model.defaults.volume)


def test_cli_prints_one_line_for_a_refused_fuzz_case(tmp_path, capsys):
    """The CLI path for the new refusals is the usual one line and exit 1 (no internal error)."""
    path = write(tmp_path, "k0.xml", document(decay(LAWS["k/0"])))
    assert main(["validate", str(path)]) == 1
    captured = capsys.readouterr()
    err = (captured.out + captured.err).strip()
    assert len(err.splitlines()) == 1 and "division by zero" in err and "internal error" not in err


def test_a_refused_mass_action_reading_leaves_the_reaction_as_written(tmp_path):
    """A law k·X^1e300 with X of stoichiometry 0 is not mass action (order far above 3); the general-law
    reading that follows must see the reaction as written, not with X added as a catalyst of order 1e300
    (that overflowed the stoichiometry matrix with an OverflowError, found by the fuzz test above)."""
    body = decay(LAWS["X^1e300"], stoichiometry="0", amount="1", k="0.5", extra=FUNCTIONS["plain"])
    compartment = '<compartment id="cell" spatialDimensions="3" size="1" constant="true"/>'
    path = write(tmp_path, "fuzz.xml", document(body, compartment=compartment))
    try:
        network = compile_network(fentonsim.load(path))
    except FentonsimError as exc:
        assert str(path) in str(exc) and "\n" not in str(exc)
        return
    assert np.all(np.isfinite(network.rate_constants()))
