"""Device updates that the compiled engine skips where no pulse is sent: a guarded block in C++.

Brian2's abstract code has no ``if``: every statement of a synapse's ``on_pre`` runs for every
transmitted spike. A device update is written so that it changes nothing where its learning rule
asks for no pulse (every change is multiplied by a flag that is 0 there, and its random draws are
made only where they are used, :mod:`~spikenet.memristive.brian2_functions`), but its loads,
arithmetic and stores still run at every event, and most events send no pulse (a rule's step is a
small fraction of one device pulse). Measured on ``mnist_dc_n100`` with ``pcm_2pcm``, that made
the presynaptic code five times as long as the ideal card's.

The device code therefore marks its update: the statement ``device_guard = CONDITION`` opens the
block and ``device_guard_end = device_guard`` closes it. :class:`GuardedCodeGenerator` (Brian2's
C++ generator, used by the ``cpp_standalone`` device of the compiled engine) turns the pair into
``if (CONDITION) { ... }`` and moves the loads and stores of the variables that only the block
uses inside it. The result is the same as without the guard wherever the block's contract holds:
*where the condition is 0, the block changes nothing* (the models' code is written that way; the
tests run one card of every model kind with and without the guard and compare the final states). Elsewhere
(runtime mode, NumPy, Cython) the markers are ordinary temporaries and everything runs.

Written by hand: Brian2 offers no conditional block in abstract code (only conditional writes of
single variables, for refractoriness), and generating the device update as one C++ function is
not possible because a Brian2 function returns one value and the update changes several
variables.
"""

from __future__ import annotations

from brian2.codegen.generators.cpp_generator import CPPCodeGenerator
from brian2.devices.cpp_standalone.codeobject import CPPStandaloneCodeObject
from brian2.utils.stringtools import get_identifiers, stripped_deindented_lines

__all__ = ["GUARD_BEGIN", "GUARD_END", "guarded", "GuardedCodeGenerator", "GuardedCodeObject", "codeobj_class"]

GUARD_BEGIN = "device_guard"
"""Temporary whose assignment opens a guarded block: the block runs where its value is not 0."""
GUARD_END = "device_guard_end"
"""Temporary whose assignment closes the guarded block."""

ENABLED = True
"""Whether the compiled engine guards device updates (the tests switch it off to compare)."""
PREFETCH_AHEAD = 8
"""How many synaptic events ahead the guarded block's arrays are prefetched."""


def guarded(condition: str, block: str) -> str:
    """Abstract code that runs ``block`` only where ``condition`` is not 0 in the compiled engine.

    ``block`` must change nothing where ``condition`` is 0 (it runs there in the other code
    generation targets), and the temporaries it defines are not visible after it."""
    return f"{GUARD_BEGIN} = int({condition} != 0)\n{block.strip()}\n{GUARD_END} = {GUARD_BEGIN}\n"


class GuardedCodeGenerator(CPPCodeGenerator):
    """Brian2's C++ code generator, with ``device_guard`` blocks turned into ``if`` blocks."""

    def translate_statement_sequence(self, sc_statements, ve_statements):
        sc_code, ve_code, kwds = super().translate_statement_sequence(sc_statements, ve_statements)
        for name, statements in ve_statements.items():
            if any(s.var == GUARD_BEGIN for s in statements):
                ve_code[name] = self._guarded_block(statements, self._scalar_reads(statements))
        return sc_code, ve_code, kwds

    def _scalar_reads(self, statements) -> set[str]:
        """Scalar variables the vector code reads but does not write: the scalar code loads them
        (as Brian2's own :meth:`translate_statement_sequence` does)."""
        read, write, _, _ = self.arrays_helper(statements)
        return {v for v in read if self.variables[v].scalar and v not in write}

    def _guarded_block(self, statements, scalar_reads: set[str]) -> str:
        names = [s.var for s in statements]
        if names.count(GUARD_BEGIN) != 1 or names.count(GUARD_END) != 1 or names.index(GUARD_END) < names.index(GUARD_BEGIN):
            raise ValueError(f"a guarded device block needs one {GUARD_BEGIN} and, after it, one {GUARD_END}: {names}")
        begin, end = names.index(GUARD_BEGIN), names.index(GUARD_END)
        before, inner, after = statements[:begin], statements[begin + 1:end], statements[end + 1:]
        local = {s.var for s in inner if s.op == ":="}
        leaked = local & set().union(*(get_identifiers(s.expr) | {s.var} for s in after))
        if leaked:
            raise ValueError(f"temporaries of a guarded device block are used after it: {sorted(leaked)}")

        read, write, indices, cond_write = self.arrays_helper(statements)
        read -= scalar_reads
        in_read, in_write, _, _ = self.arrays_helper(inner)
        out_read, out_write, _, _ = self.arrays_helper(before + after)
        out_read |= get_identifiers(statements[begin].expr) & read  # the condition is evaluated outside
        inside_only = (in_read | in_write) - (out_read | out_write)
        stored_inside = in_write - out_write

        condition = self.translate_expression(statements[begin].expr)
        lines = self._prefetch(read & inside_only)
        lines += self.translate_to_read_arrays(read - inside_only, write, indices)
        lines += self.translate_to_declarations(read, write - inside_only, indices)
        lines += self.translate_to_statements(before, cond_write)
        lines.append(f"if ({condition})")
        lines.append("{")
        lines += self.translate_to_read_arrays(read & inside_only, write, set())
        lines += self.translate_to_declarations(read, write & inside_only, set())
        lines += self.translate_to_statements(inner, cond_write)
        lines += self.translate_to_write_arrays(stored_inside)
        lines.append("}")
        lines += self.translate_to_statements(after, cond_write)
        lines += self.translate_to_write_arrays(write - stored_inside)
        return stripped_deindented_lines("\n".join(lines))

    def _prefetch(self, names: set[str]) -> list[str]:
        """Prefetch the block's own arrays for the synapse ``PREFETCH_AHEAD`` events ahead.

        A synaptic pathway visits the synapses of a spiking neuron: the input synapses of a
        postsynaptic neuron lie ``N_post`` entries apart, and the block runs for a random few of
        them (those that get a pulse), so the processor's own prefetcher cannot follow and each
        of the block's loads waits for memory (measured with perf on ``mnist_querlioz`` with
        ``pcm_2pcm``: those loads were most of its postsynaptic code). Only in the postsynaptic
        pathway of Brian2's ``synapses`` template (whose loop variables this names): Brian2
        creates synapses presynaptic neuron by presynaptic neuron, so a presynaptic spike's
        synapses are contiguous and the processor prefetches them itself (prefetching there made
        ``mnist_dc_n100`` on ``pcm_2pcm`` slower in ``benchmarks/device_speed.py``)."""
        arrays = sorted(n for n in names if self.variable_indices[n] == "_idx")
        if self.template_name != "synapses" or self._pathway_side() != "post" or not arrays:
            return []
        ahead = f"_spiking_synapse_idx + {PREFETCH_AHEAD}"
        return ([f"if ({ahead} < _num_spiking_synapses)", "{",
                 f"const size_t _prefetch_idx = (*_spiking_synapses)[{ahead}];"]
                + [f"__builtin_prefetch(&{self.get_array_name(self.variables[n])}[_prefetch_idx]);" for n in arrays]
                + ["}"])

    def _pathway_side(self) -> str | None:
        """``"pre"`` or ``"post"``: which pathway of the synapses this code object runs (its name
        starts with the pathway's, which is how Brian2 names them)."""
        names = {p.name: p.prepost for p in getattr(self.owner, "_pathways", ())}
        matches = [name for name in names if self.name.startswith(f"{name}_codeobject")]
        return names[matches[0]] if matches else None


class GuardedCodeObject(CPPStandaloneCodeObject):
    """The ``cpp_standalone`` code object with :class:`GuardedCodeGenerator`."""

    generator_class = GuardedCodeGenerator


def codeobj_class():
    """The code object class for synapses with guarded device updates under Brian2's current
    device: :class:`GuardedCodeObject` for ``cpp_standalone``, else ``None`` (Brian2's default)."""
    from brian2.devices.cpp_standalone.device import CPPStandaloneDevice
    from brian2.devices.device import get_device

    return GuardedCodeObject if ENABLED and isinstance(get_device(), CPPStandaloneDevice) else None
