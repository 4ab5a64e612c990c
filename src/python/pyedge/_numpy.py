"""pyedge's support for numpy apps, bundled only into apps built with pyedge's WASI numpy
(src/pipeline.rs) and driven by the boot module.

numpy seeds a bit generator made without a seed (its legacy global RandomState, made when
numpy.random is imported; an app's module-level `default_rng()`) with `SeedSequence()`,
that is with `secrets.randbits(128)`, which numpy.random.bit_generator binds when it is
imported. Made at build time, such a generator would give every instance the snapshot's
numbers. So at build time the entropy numpy draws is recorded (`watch`), the generators
seeded from it are found once the app is imported (`find_generators`), and every run
reseeds them from the host (`reseed`). A generator with an explicit seed is left alone.
"""
import sys

# Build time: what secrets.randbits returned while the app and its imports were imported.
ENTROPY = []
# The bit generators seeded from it, which every run reseeds.
GENERATORS = []


def watch():
    """Build time, before anything imports numpy.random: record what secrets.randbits
    draws. Returns the real randbits, for `find_generators`."""
    import secrets
    draw = secrets.randbits

    def randbits(k):
        value = draw(k)
        ENTROPY.append(value)
        return value

    secrets.randbits = randbits
    return draw


def find_generators(draw):
    """Build time, after the imports: put the real randbits back and list the bit
    generators seeded from what it drew meanwhile."""
    import secrets
    secrets.randbits = draw
    module = sys.modules.get("numpy.random.bit_generator")
    if module is None:
        return
    module.randbits = draw
    drawn = {value for value in ENTROPY if isinstance(value, int)}
    if not drawn:
        return
    import gc
    for obj in gc.get_objects():
        if isinstance(obj, module.BitGenerator):
            entropy = getattr(obj.seed_seq, "entropy", None)
            if isinstance(entropy, int) and entropy in drawn:
                GENERATORS.append(obj)


def seeds_drawn(name, before):
    """How many host random reads while `name` was imported were numpy.random seeding
    generators that every run reseeds (`before`: len(ENTROPY) when it started)."""
    if name == "numpy" or name.startswith("numpy."):
        return len(ENTROPY) - before
    return 0


def reseed():
    """Run time: fresh host entropy for every generator seeded at build time.

    The two bit generators numpy makes by default get their state straight from the
    host's random bytes: MT19937 (the legacy global RandomState) its 624-word key, with
    the position at its end so the first draw regenerates the block; PCG64 (what
    `default_rng()` uses) its 128-bit state and an odd 128-bit increment. Any such state
    is a valid one, and this costs an instance a fraction of making a new generator
    through a SeedSequence and copying its state over (which also builds the old state's
    arrays and dicts). Others (Philox, SFC64, PCG64DXSM) are made anew."""
    import os
    for generator in GENERATORS:
        kind = type(generator).__name__
        if kind == "MT19937":
            import numpy
            key = numpy.frombuffer(os.urandom(624 * 4), dtype=numpy.uint32)
            generator.state = {"bit_generator": kind, "state": {"key": key, "pos": 624}}
        elif kind == "PCG64":
            word = os.urandom(32)
            generator.state = {
                "bit_generator": kind,
                "state": {
                    "state": int.from_bytes(word[:16], "little"),
                    "inc": int.from_bytes(word[16:], "little") | 1,
                },
                "has_uint32": 0,
                "uinteger": 0,
            }
        else:
            generator.state = type(generator)().state
