"""General rate laws compiled to programs for one fixed interpreter kernel.

A reaction with a general law proceeds at r = k · g(x, t): k is its rate constant (Arrhenius, pH
and overrides act on it as on any constant) and g an expression (fentonsim.expression) of the state
concentrations x [M] and time t [s]. Reactions without a law have g = Π x^ν (mass action), so one
convention, r = k·g, covers the whole network.

Each g, each non-zero ∂g/∂x_j and each ∂g/∂t is written as a postfix program (opcodes and operands
in flat arrays, numbers in a constant pool) that kernels/laws.py interprets. The kernel is compiled
once for every model: a new law, a new parameter value or new conditions change only the arrays,
never the machine code. The derivatives are exact: fentonsim.expression.derivative differentiates
the trees symbolically when the programs are built, and the Jacobian sparsity comes from the
variables each law reads.

Arrays of :class:`LawPrograms` (n_r reactions, n_d non-zero derivatives):
``code``, ``operand`` (n_code,) int64; ``constants`` (n_const,) [mixed units]; ``rate_start``
(n_r + 1,) — program of g_i is code[rate_start[i]:rate_start[i+1]]; ``deriv_reaction``,
``deriv_species`` (n_d,), ``deriv_start`` (n_d + 1,) — program of ∂g_i/∂x_j [M^(order−1)];
``time_start`` (n_r + 1,) — program of ∂g_i/∂t [M^order s⁻¹], empty when g does not read t;
``stack_size`` the deepest stack any program needs.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .expression import derivative, num, op, sym, symbols, to_text

# Opcodes (kernels/laws.py interprets them; the numbers are part of the two modules' contract).
CONST, STATE, TIME = 0, 1, 2
ADD, SUB, MUL, DIV, POW, NEG = 10, 11, 12, 13, 14, 15
EXP, LN, LOG10, SQRT, ABS, NOT, FLOOR, CEIL = 20, 21, 22, 23, 24, 25, 26, 27
MIN, MAX, REM = 30, 31, 32
GT, GEQ, LT, LEQ, EQ, NEQ, AND, OR, XOR = 40, 41, 42, 43, 44, 45, 46, 47, 48
SELECT = 50  # pops otherwise, condition, value: value if condition != 0 else otherwise
SIN, COS, TAN, SINH, COSH, TANH, ASIN, ACOS, ATAN, ASINH, ACOSH, ATANH = range(60, 72)
# Fused forms of `push leaf; binary op`: the top of the stack OP a constant (operand: its slot) or a state
# variable (operand: its index). Laws are mostly such pairs (V·S/(K + S) is 7 instructions, 5 fused), and
# the interpreter's cost is per instruction dispatched.
ADD_C, SUB_C, MUL_C, DIV_C, POW_C = 80, 81, 82, 83, 84
ADD_S, SUB_S, MUL_S, DIV_S, POW_S = 85, 86, 87, 88, 89
_FUSED_CONST = {ADD: ADD_C, SUB: SUB_C, MUL: MUL_C, DIV: DIV_C, POW: POW_C}
_FUSED_STATE = {ADD: ADD_S, SUB: SUB_S, MUL: MUL_S, DIV: DIV_S, POW: POW_S}
#: Opcodes whose operand is a state variable's index (what a program reads).
READS_STATE = frozenset({STATE, *_FUSED_STATE.values()})

_UNARY = {"exp": EXP, "ln": LN, "log10": LOG10, "sqrt": SQRT, "abs": ABS, "not": NOT, "floor": FLOOR, "ceil": CEIL,
          "sin": SIN, "cos": COS, "tan": TAN, "sinh": SINH, "cosh": COSH, "tanh": TANH, "arcsin": ASIN,
          "arccos": ACOS, "arctan": ATAN, "arcsinh": ASINH, "arccosh": ACOSH, "arctanh": ATANH}
_BINARY = {"plus": ADD, "times": MUL, "divide": DIV, "power": POW, "min": MIN, "max": MAX, "rem": REM, "and": AND, "or": OR,
           "xor": XOR}
_RELATION = {"gt": GT, "geq": GEQ, "lt": LT, "leq": LEQ, "eq": EQ, "neq": NEQ}

TIME_SYMBOL = "time"


@dataclass(frozen=True, eq=False)
class LawPrograms:
    """Compiled rate laws of a network (module docstring for the arrays)."""

    code: np.ndarray
    operand: np.ndarray
    constants: np.ndarray
    rate_start: np.ndarray
    deriv_reaction: np.ndarray
    deriv_species: np.ndarray
    deriv_start: np.ndarray
    time_start: np.ndarray
    stack_size: int
    signed: np.ndarray  # (n_s,) bool: state variables that may be negative (kernels/laws.py)
    texts: tuple  # g_i as infix text, for messages and results
    trigger_start: np.ndarray  # (n_e + 1,) programs of the state events' triggers (1.0 true, 0.0 false)
    assignment_start: np.ndarray  # (n_a + 1,) programs of their assignments' values
    assignment_target: np.ndarray  # (n_a,) state index each assignment sets
    event_assignments: np.ndarray  # (n_e + 1,) event e's assignments are assignment_start[e_a[e]:e_a[e + 1]]
    event_priority: np.ndarray  # (n_e,) float, NaN for none
    event_use_trigger_values: np.ndarray  # (n_e,) bool
    event_initial_value: np.ndarray  # (n_e,) bool
    delay_start: np.ndarray  # (n_e + 1,) programs of the events' delays [s] (empty: no delay)
    event_persistent: np.ndarray  # (n_e,) bool: a queued execution survives its trigger turning false
    event_interacts: np.ndarray  # (n_e, n_e) bool: one event sets a variable the other sets or reads
    event_times: np.ndarray  # times [s] a trigger compares `time` with: the integrator lands on them
    switch_start: np.ndarray  # (n_sw + 1,) programs of left − right of every comparison inside the triggers
    general_reactions: tuple = ()  # network reaction ids whose g is a general law (the rest: mass action)
    event_names: tuple = ()
    event_locations: tuple = ()  # "file:line" of each event, or "" (for messages)
    trees: tuple = ()  # g_i as expression trees (fentonsim.expression), for SBML export

    def kernel_arguments(self) -> tuple:
        """The arrays in the order the kernels take them."""
        return (self.code, self.operand, self.constants, self.rate_start, self.deriv_reaction,
                self.deriv_species, self.deriv_start, self.time_start, np.int64(self.stack_size), self.signed,
                self.trigger_start, self.assignment_start, self.assignment_target, self.event_assignments,
                self.event_priority, self.event_use_trigger_values, self.event_initial_value, self.delay_start,
                self.event_persistent, self.event_interacts, self.switch_start)


class LawError(ValueError):
    """A law that cannot become a program; ``index`` is its position in the list given to compile_laws."""

    def __init__(self, index, message):
        super().__init__(message)
        self.index = index


class _Assembler:
    def __init__(self, species_index):
        self.species_index = species_index
        self.code, self.operand, self.constants = [], [], []
        self.constant_slot = {}
        self.deepest = 1

    def emit(self, opcode, argument=0):
        self.code.append(opcode)
        self.operand.append(argument)

    def emit_binary(self, opcode, right) -> int:
        """Emit `opcode` applied to the value on the stack and the expression ``right``; return the depth
        ``right`` adds. A constant or state ``right`` fuses into one instruction."""
        if right[0] == "num" and opcode in _FUSED_CONST:
            self.emit(_FUSED_CONST[opcode], self._constant(right[1]))
            return 0
        if right[0] == "sym" and right[1] != TIME_SYMBOL and opcode in _FUSED_STATE:
            self.emit(_FUSED_STATE[opcode], self.species_index[right[1]])
            return 0
        depth = self._write(right)
        self.emit(opcode)
        return depth

    def program(self, expr) -> None:
        depth = self._write(expr)
        self.deepest = max(self.deepest, depth)

    def _constant(self, value) -> int:
        key = float(value)
        # NaN != NaN, so key NaN by its bit pattern.
        slot_key = ("nan",) if key != key else key
        if slot_key not in self.constant_slot:
            self.constant_slot[slot_key] = len(self.constants)
            self.constants.append(key)
        return self.constant_slot[slot_key]

    def _write(self, expr) -> int:
        """Emit expr; return the stack depth it needs."""
        kind = expr[0]
        if kind == "num":
            self.emit(CONST, self._constant(expr[1]))
            return 1
        if kind == "sym":
            if expr[1] == TIME_SYMBOL:
                self.emit(TIME)
            else:
                self.emit(STATE, self.species_index[expr[1]])
            return 1
        name, args = expr[1], expr[2]
        if kind == "rel":
            depth = max(self._write(args[0]), 1 + self._write(args[1]))
            self.emit(_RELATION[name])
            return depth
        if name == "minus":
            if len(args) == 1:
                depth = self._write(args[0])
                self.emit(NEG)
                return depth
            left = self._write(args[0])
            return max(left, 1 + self.emit_binary(SUB, args[1]))
        if name in _UNARY:
            depth = self._write(args[0])
            self.emit(_UNARY[name])
            return depth
        if name in _BINARY:
            if len(args) == 1:
                # One argument: the value itself (a condition for the logic functions).
                depth = self._write(args[0])
                if name in ("and", "or", "xor"):
                    self.emit(NOT)
                    self.emit(NOT)
                return depth
            depth = self._write(args[0])
            for a in args[1:]:
                depth = max(depth, 1 + self.emit_binary(_BINARY[name], a))
            return depth
        if name == "piecewise":
            # v1, c1, rest → SELECT; the rest is the next piecewise or the otherwise value (NaN: undefined).
            if len(args) == 1:
                return self._write(args[0])
            if len(args) == 0:
                return self._write(num(float("nan")))
            rest = op("piecewise", *args[2:]) if len(args) > 2 else num(float("nan"))
            depth = max(self._write(args[0]), 1 + self._write(args[1]), 2 + self._write(rest))
            self.emit(SELECT)
            return depth
        raise ValueError(f"`{name}` of a varying argument is not supported in rate laws (only of numbers)")


def compile_laws(laws, species, signed=None, events=()) -> LawPrograms:
    """Programs for g_i, ∂g_i/∂x_j and ∂g_i/∂t of every reaction.

    Parameters
    ----------
    laws : sequence of expression trees, length n_r
        g_i in state-variable names and ``time`` (every other symbol already replaced by its value).
    species : sequence of str, length n_s
        State-variable names, in the state's order.
    signed : sequence of bool, length n_s, optional
        State variables that may be negative (default: none; concentrations are floored at 0).
    events : sequence of fentonsim.mechanism.schema.StateEvent
        Events triggered by the state (their triggers and assignments become programs too).

    Raises
    ------
    ValueError
        Naming the law and the symbol when a law reads something that is neither a state variable nor
        ``time``.
    """
    species_index = {name: i for i, name in enumerate(species)}
    assembler = _Assembler(species_index)
    rate_start = [0]
    deriv_reaction, deriv_species = [], []
    for i, law in enumerate(laws):
        unknown = symbols(law) - set(species_index) - {TIME_SYMBOL}
        if unknown:
            raise LawError(i, f"rate law {i} ({to_text(law)}) reads {', '.join(sorted(unknown))}, which is not a "
                              "state variable or `time`")
        try:
            assembler.program(law)
        except ValueError as error:
            raise LawError(i, f"rate law {i} ({to_text(law)[:200]}): {error}") from None
        rate_start.append(len(assembler.code))
    # Each table of offsets starts where its programs start, after the previous table's.
    deriv_start = [len(assembler.code)]
    for i, law in enumerate(laws):
        for name in sorted(symbols(law) - {TIME_SYMBOL}, key=species_index.get):
            d = derivative(law, name)
            if d == num(0.0):
                continue
            assembler.program(d)
            deriv_reaction.append(i)
            deriv_species.append(species_index[name])
            deriv_start.append(len(assembler.code))
    time_start = [len(assembler.code)]
    for law in laws:
        if TIME_SYMBOL in symbols(law):
            d = derivative(law, TIME_SYMBOL)
            if d != num(0.0):
                assembler.program(d)
        time_start.append(len(assembler.code))
    trigger_start = [len(assembler.code)]
    for event in events:
        _check_symbols(event.trigger, species_index, f"trigger of event `{event.name}`")
        assembler.program(event.trigger)
        trigger_start.append(len(assembler.code))
    assignment_start, assignment_target, event_assignments = [len(assembler.code)], [], [0]
    for event in events:
        for target, expr in event.assignments:
            _check_symbols(expr, species_index, f"assignment to `{target}` of event `{event.name}`")
            assembler.program(expr)
            assignment_start.append(len(assembler.code))
            assignment_target.append(species_index[target])
        event_assignments.append(len(assignment_target))
    switch_start = [len(assembler.code)]
    for event in events:
        for left, right in _comparisons(event.trigger):
            assembler.program(op("minus", left, right))
            switch_start.append(len(assembler.code))
    delay_start = [len(assembler.code)]
    for event in events:
        if event.delay is not None:
            _check_symbols(event.delay, species_index, f"delay of event `{event.name}`")
            assembler.program(event.delay)
        delay_start.append(len(assembler.code))
    return LawPrograms(
        code=np.array(assembler.code, dtype=np.int64), operand=np.array(assembler.operand, dtype=np.int64),
        constants=np.array(assembler.constants, dtype=float), rate_start=np.array(rate_start, dtype=np.int64),
        deriv_reaction=np.array(deriv_reaction, dtype=np.int64),
        deriv_species=np.array(deriv_species, dtype=np.int64), deriv_start=np.array(deriv_start, dtype=np.int64),
        time_start=np.array(time_start, dtype=np.int64), stack_size=assembler.deepest,
        trigger_start=np.array(trigger_start, dtype=np.int64),
        assignment_start=np.array(assignment_start, dtype=np.int64),
        assignment_target=np.array(assignment_target, dtype=np.int64),
        event_assignments=np.array(event_assignments, dtype=np.int64),
        event_priority=np.array([np.nan if e.priority is None else e.priority for e in events], dtype=float),
        event_use_trigger_values=np.array([e.use_trigger_values for e in events], dtype=bool),
        event_initial_value=np.array([e.initial_value for e in events], dtype=bool),
        delay_start=np.array(delay_start, dtype=np.int64),
        event_persistent=np.array([e.persistent for e in events], dtype=bool),
        event_interacts=_interactions(events),
        switch_start=np.array(switch_start, dtype=np.int64),
        event_times=np.array(sorted({t for e in events for t in _time_thresholds(e.trigger)}), dtype=float),
        event_names=tuple(e.name for e in events),
        event_locations=tuple(f"{e.location.path}:{e.location.line}" if e.location.path else "" for e in events),
        signed=np.zeros(len(species), dtype=bool) if signed is None else np.array(signed, dtype=bool),
        texts=tuple(to_text(law) for law in laws), trees=tuple(laws))


def _comparisons(expr) -> list:
    """(left, right) of every comparison in a trigger: the kernel watches left − right change sign, so a
    trigger that is true only within a window shorter than a step is still found."""
    out = []
    if expr[0] == "rel":
        out.append(expr[2])
    if expr[0] in ("op", "rel"):
        for a in expr[2]:
            out.extend(_comparisons(a))
    return out


def _time_thresholds(expr) -> set:
    """Times T [s] of the comparisons `time ⋚ T` (or `c·time ⋚ T`) inside a trigger: landing on them exactly
    means a window such as 0.5 ≤ t ≤ 1 is never stepped over."""
    out = set()
    if expr[0] in ("op", "rel"):
        for a in expr[2]:
            out |= _time_thresholds(a)
    if expr[0] != "rel":
        return out

    def time_scale(side):
        if side == sym(TIME_SYMBOL):
            return 1.0
        if side[0] == "op" and side[1] == "times" and len(side[2]) == 2 and sym(TIME_SYMBOL) in side[2]:
            other = side[2][0] if side[2][1] == sym(TIME_SYMBOL) else side[2][1]
            return other[1] if other[0] == "num" and other[1] != 0 else None
        return None

    left, right = expr[2]
    for variable, constant in ((left, right), (right, left)):
        scale = time_scale(variable)
        if scale is not None and constant[0] == "num" and np.isfinite(constant[1] / scale):
            out.add(float(constant[1] / scale))
    return out


def _interactions(events) -> np.ndarray:
    """(n_e, n_e) bool: whether the order of two events executing at the same instant can matter — one sets a
    variable that the other sets, or reads in its trigger, delay or assignments (conservative)."""
    writes = [{target for target, _ in e.assignments} for e in events]
    reads = [symbols(e.trigger).union(*(symbols(expr) for _, expr in e.assignments),
                                      symbols(e.delay) if e.delay is not None else set()) for e in events]
    n = len(events)
    out = np.zeros((n, n), dtype=bool)
    for a in range(n):
        for b in range(n):
            if a != b:
                out[a, b] = bool(writes[a] & writes[b] or writes[a] & reads[b] or writes[b] & reads[a])
    return out


def _check_symbols(expr, species_index, what):
    unknown = symbols(expr) - set(species_index) - {TIME_SYMBOL}
    if unknown:
        raise LawError(-1, f"{what} ({to_text(expr)[:200]}) reads {', '.join(sorted(unknown))}, which is not a state "
                           "variable or `time`")


def mass_action_law(reactants) -> tuple:
    """g = Π x^ν as a tree, from (name, ν) pairs (the law of a reaction that has no general law)."""
    factors = [sym(name) if nu == 1 else op("power", sym(name), num(nu)) for name, nu in reactants]
    if not factors:
        return num(1.0)
    return factors[0] if len(factors) == 1 else op("times", *factors)
