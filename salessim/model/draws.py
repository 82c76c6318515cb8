"""Random draws of one replication, laid out per lead for common random numbers.

Leads are generated per channel up front (arrival times by inverting the cumulative
rate, attributes and deal values from their own streams). Stage draws come in layers:
one layer per (channel, stage, attempt), with one row per lead of the channel, made
the first time any lead needs it. A lead's draws depend only on the layer's stream and
its row (``Uniforms``); each column is turned into values (by the distribution's
inverse CDF) only when read. First attempts are read for most rows: their uniforms are
drawn at once and their columns converted whole, vectorised, into typed arrays of
doubles (``array.array``), which the event loop indexes several times faster than
numpy scalars while they take 8 bytes a value, not the 32 of a list of floats; a column
whose inverse CDF is costly (gamma, truncated normal) converts the rows read instead, a
stage late in the funnel being reached by few leads. Once every column of values made
from a column of uniforms is converted, the uniforms go (they are drawn again, the same
numbers, if a change during the run converts anew). Later attempts (rework, nurture)
are read for a few rows only: their uniforms are made for the rows read and their
columns convert row by row (``Inverse.one``), until enough rows were read to make
converting the whole column cheaper. All ways give bit-identical values: the streams
jump ahead exactly and the inverse CDFs work element by element.
"""

from __future__ import annotations

import bisect
import math
import weakref
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from salessim.model.inverse import ZERO, Inverse, inverse
from salessim.model.leads import packed
from salessim.model.organisation import travel_zones
from salessim.rng import Purpose, name_key, stream
from salessim.scenario.distributions import Distribution
from salessim.scenario.limits import ATTRIBUTES
from salessim.scenario.rates import rate_knots
from salessim.scenario.schema import Channel, Scenario, Stage

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

Keys = tuple[int, ...]
"""Stream keys of a source of leads: a channel, or a block of leads made during the run."""

BLOCK_ROWS = 256
"""Rows of a source of leads made during the run (repeat opportunities, referrals)."""

_MADE = name_key("leads made during the run")


def channel_keys(channel: Channel) -> Keys:
    """Stream keys of a channel's leads, drawn when the run starts."""
    return (name_key(channel.name),)


def made_keys(parent: Keys, parent_row: int, kind: int, number: int) -> Keys:
    """Stream keys of the source of a lead made during the run, and so of its draws.

    The lead is the ``number``-th (from 1) of its ``kind`` (repeat opportunity or
    referral) that the customer made by the parent lead brings; the parent lead is at
    ``parent_row`` of the source with keys ``parent``. Such leads take row
    ``parent_row % BLOCK_ROWS`` of a source of ``BLOCK_ROWS`` rows keyed by all of these,
    so a customer's k-th repeat opportunity has the same draws in two scenarios however
    the others differ. Keys longer than a channel's never meet one.
    """
    return (*parent, _MADE, kind, parent_row // BLOCK_ROWS, number)


@dataclass(frozen=True)
class ChannelLeads:
    """The leads one channel produces over the horizon, in arrival order.

    Attributes:
        arrival_days: Arrival times (days).
        attributes: For each of ``ATTRIBUTES``, the index of the lead's value in the
            scenario's list of values.
        deal_value: Deal value if won (currency).
    """

    arrival_days: FloatArray
    attributes: dict[str, IntArray]
    deal_value: FloatArray


class Rows(Protocol):
    """A column of draws: one value per lead row."""

    def __getitem__(self, row: int, /) -> float:
        """The value for the lead in ``row``."""


Transform = Inverse
"""Uniforms to values, element by element (an inverse CDF, maybe scaled)."""
Columns = dict[str, tuple[int, Transform | None]]
"""A layer's columns: name -> (column of uniforms, transform to values)."""


class Uniforms:
    """An ``n`` x ``c`` matrix of uniforms from one stream, made only where it is read.

    The values are those of ``rng.random((n, c))``, bit for bit: PCG64 gives one draw
    per double, row after row, so rows ``[a, b)`` are the ``(b - a) * c`` draws after
    jumping ``a * c`` ahead (``PCG64.advance``). A sparse matrix makes the blocks of rows
    read, on demand; the whole matrix is made only when a column is converted whole.
    A layer of later attempts for a channel of 60,000 leads, read for a few dozen of
    them, so holds a few kilobytes instead of 3.8 MB. Whole, the matrix is kept as its
    columns, each of which can go once converted (``column``, ``release``).

    Args:
        rng: The stream, before any draw.
        n: Rows.
        c: Columns.
        sparse: Make rows when read (True) or the whole matrix now (False).
    """

    __slots__ = ("_bits", "_blocks", "_c", "_columns", "_full", "_gen", "_n", "_pos", "_start")

    def __init__(self, rng: np.random.Generator, n: int, c: int, *, sparse: bool) -> None:
        bits = rng.bit_generator
        assert isinstance(bits, np.random.PCG64), "jumping ahead needs PCG64"
        self._bits = bits
        self._gen = rng
        self._start = bits.state
        self._pos = 0
        """Draws made from the start: a jump goes from here, not from a reset state
        (setting a PCG64's state costs more than the jump itself)."""
        self._n, self._c = n, c
        self._blocks: dict[int, FloatArray] = {}
        self._full: FloatArray | None = None
        self._columns: list[FloatArray | None] | None = None
        """The whole matrix's columns, once split (``column``); None where released."""
        if not sparse:
            self.full()

    @property
    def width(self) -> int:
        """Columns of the matrix."""
        return self._c

    def full(self) -> FloatArray:
        """The whole matrix (made now if it was sparse or split into columns)."""
        if self._full is None:
            self._bits.state = self._start
            self._full = np.random.Generator(self._bits).random((self._n, self._c))
            self._pos = self._n * self._c
            self._blocks.clear()
        return self._full

    def column(self, k: int) -> FloatArray:
        """Column ``k`` of the whole matrix, contiguous (made again if it was released).

        The first call splits the matrix into its columns and drops it, so that each
        column can go (``release``) once the values converted from it are kept instead.
        """
        columns = self._columns
        if columns is None or columns[k] is None:
            full = self.full()
            columns = self._columns = [np.ascontiguousarray(full[:, j])
                                       for j in range(self._c)]
            self._full = None
        column = columns[k]
        assert column is not None  # just made
        return column

    def release(self, k: int) -> None:
        """Drop column ``k``: what is converted from it is kept, and it can be made again."""
        if self._columns is not None:
            self._columns[k] = None

    def value(self, row: int, k: int, chunk: int) -> float:
        """Row ``row`` of column ``k``; sparse rows are made ``chunk`` at a time."""
        if self._full is not None:
            return float(self._full[row, k])
        if self._columns is not None:
            column = self._columns[k]
            if column is not None:
                return float(column[row])
        start = row - row % chunk
        block = self._blocks.get(start)
        if block is None:
            block = self._block(start, start + chunk)
        return float(block[row - start, k])

    def _block(self, start: int, stop: int) -> FloatArray:
        """Make (and keep) rows ``[start, stop)`` of a sparse matrix."""
        stop = min(stop, self._n)
        c = self._c
        # PCG64 jumps by any number of draws modulo 2**128, backwards as well.
        self._bits.advance(start * c - self._pos)
        block = self._blocks[start] = self._gen.random((stop - start, c))
        self._pos = stop * c
        return block


class LazyColumn:
    """A column of a layer, converted row by row until ``dense_after`` rows were read.

    A row read alone is converted from its uniform as a Python float (``Inverse.one``);
    its uniforms are made ``chunk`` rows at a time (``Uniforms.value``), for columns
    read sparsely, where one jump ahead per row would cost more than the draws.

    After that the whole column is converted at once and the layer's attribute is
    replaced by the resulting typed array, so later reads are plain indexing. The column
    refers to its layer weakly, so the two make no reference cycle.
    """

    __slots__ = ("_budget", "_chunk", "_dense", "_k", "_layer", "_name", "_one",
                 "_transform", "_u", "_values")

    def __init__(self, layer: StageLayer, name: str, u: Uniforms, k: int,
                 transform: Inverse | None, dense_after: int, chunk: int = 1) -> None:
        self._layer = weakref.ref(layer)
        self._name = name
        self._u = u
        self._k = k
        self._transform = transform
        self._one = transform.one if transform is not None else None
        self._budget = dense_after
        self._chunk = chunk
        self._values: dict[int, float] = {}
        self._dense: array[float] | None = None

    def __getitem__(self, row: int, /) -> float:
        """The value for the lead in ``row``."""
        if self._dense is not None:
            return self._dense[row]
        value = self._values.get(row)
        if value is None:
            if self._budget <= 0:
                return self.densify()[row]
            self._budget -= 1
            value = self._u.value(row, self._k, self._chunk)
            if self._one is not None:
                value = self._one(value)
            self._values[row] = value
        return value

    def densify(self) -> array[float]:
        """Convert the whole column and put the values in the layer in this column's place."""
        if self._dense is None:
            u = self._u.column(self._k)
            dense = packed(u if self._transform is None else self._transform(u))
            self._dense = dense
            layer = self._layer()
            if layer is not None:
                layer.put(self._name, dense)
                layer.converted(self._k)
            self._values.clear()
        return self._dense


class DeferredColumn:
    """A column of a first attempt whose inverse CDF is costly, converted row by row.

    A first attempt's columns convert whole when first read, but a stage late in the
    funnel is reached by a fraction of the leads: for a gamma delay (an iterative
    inverse, about a microsecond a value) converting every row cost more than converting
    the rows read one by one. Values are kept in a typed array (NaN: not converted yet),
    8 bytes a row like a converted column.
    """

    __slots__ = ("_one", "_u", "_values")

    def __init__(self, u: FloatArray, one: Callable[[float], float]) -> None:
        self._u = u
        self._one = one
        self._values = array("d", [math.nan]) * len(u)

    def __getitem__(self, row: int, /) -> float:
        """The value for the lead in ``row``."""
        value = self._values[row]
        if value != value:  # NaN: not converted yet (an inverse CDF gives no NaN)
            value = self._values[row] = self._one(float(self._u[row]))
        return value


class _Zeros:
    """A column whose every row is 0 (a delay a scenario leaves out)."""

    __slots__ = ()

    def __getitem__(self, row: int, /) -> float:
        """0.0, for any row."""
        return 0.0


NONE_AT_ALL = _Zeros()
"""The column of a zero delay (``inverse.ZERO``): it reads no uniforms."""


class StageLayer:
    """Draws for one (channel, stage, attempt), one row per lead of the channel.

    Durations are in days; ``u_`` entries are uniforms in [0, 1). Each attribute is a
    ``Rows`` column: a typed array, or a ``LazyColumn`` until it is converted.
    """

    work_days: Rows
    customer_days: Rows
    decline_days: Rows
    """The customer's time to say no, where the stage has one (same uniform as
    ``customer_days``)."""
    u_outcome: Rows
    u_route: Rows
    handoff_days: Rows
    u_info_loss: Rows
    travel_days: list[Rows]
    """Travel time of a visit (days), by travel zone (``organisation.travel_zones``); empty
    at a stage that is no visit."""
    nurture_days: Rows

    def __init__(self, u: Uniforms, columns: Columns, dense_after: int, chunk: int = 1
                 ) -> None:
        self.u = u
        self.dense_after = dense_after
        self.chunk = chunk
        self.convert(columns)

    def convert(self, columns: Columns) -> None:
        """(Re)build the columns from the layer's uniforms with these transforms.

        Called again when a distribution changes during a run: rows read from now on
        take the new distribution's value for the same uniform. Columns are made here,
        converting nothing yet: a class with ``__getattr__`` (to make them when first
        read) slows every attribute read of the event loop, which reads several per
        attempt.
        """
        self._columns = columns
        # Columns of uniforms still to convert, by the values read from each: a column
        # of uniforms goes once every column of values made from it is converted.
        self._unconverted = [0] * self.u.width
        self.travel_days = []
        for name in columns:
            self.put(name, self._column(name))

    def _column(self, name: str) -> Rows:
        k, transform = self._columns[name]
        if transform is ZERO:
            return NONE_AT_ALL  # no uniform needed: every row is 0
        if self.dense_after == 0 and transform is not None and transform.costly:
            return DeferredColumn(self.u.column(k), transform.one)
        self._unconverted[k] += 1
        return LazyColumn(self, name, self.u, k, transform, self.dense_after, self.chunk)

    def converted(self, k: int) -> None:
        """A column of values made from uniforms ``k`` is converted whole.

        Then every column of uniforms with nothing left to convert from it goes: this
        one, and those no column of values reads (or only one converting row by row,
        which keeps its own).
        """
        self._unconverted[k] -= 1
        for j, left in enumerate(self._unconverted):
            if left == 0:
                self.u.release(j)

    def put(self, name: str, column: Rows) -> None:
        """Set a column by name; ``travel_days.3`` is the fourth travel zone's column."""
        _, _, index = name.partition(".")
        if not index:
            setattr(self, name, column)
        elif int(index) < len(self.travel_days):
            self.travel_days[int(index)] = column
        else:
            self.travel_days.append(column)


@dataclass(frozen=True)
class PaymentDraws:
    """Payment draws of a channel's leads: invoice and payment delays (days), bad debt.

    Terms changed during a run draw them again from their stream (``payment_draws``):
    the same uniforms, not kept meanwhile.

    Attributes:
        invoice_days: Win to invoice (days).
        payment_days: Invoice to payment (days).
        u_bad_debt: Uniforms compared with the bad-debt probability.
    """

    invoice_days: array[float]
    payment_days: array[float]
    u_bad_debt: array[float]


_STAGE_COLUMNS = 9


def generate_channel(
    sc: Scenario, channel: Channel, seed: int, replication: int
) -> ChannelLeads:
    """Arrivals, attributes and deal values of one channel over [0, horizon)."""
    horizon = sc.calendar.horizon_days
    ckey = name_key(channel.name)
    days, level = rate_knots(channel.schedule, horizon)
    target = channel.leads_per_day * level[-1]
    rng = stream(seed, replication, Purpose.ARRIVALS, ckey)
    # Unit-rate Poisson points, scaled by the rate: the k-th lead is the same lead
    # (only earlier or later) when the rate changes.
    chunks: list[FloatArray] = []
    total = 0.0
    while total <= target and channel.leads_per_day > 0:
        chunk = np.cumsum(rng.standard_exponential(int(target + 4 * np.sqrt(target) + 16)))
        chunk += total
        chunks.append(chunk)
        total = float(chunk[-1])
    points = np.concatenate(chunks) if chunks else np.empty(0)
    points = points[points < target] / max(channel.leads_per_day, 1e-300)
    arrival = np.interp(points, level, days)
    n = len(arrival)

    attributes: dict[str, IntArray] = {
        attr: mix_indices(sc, channel, attr, stream(seed, replication, Purpose.ATTRIBUTES,
                                                    ckey, name_key(attr)).random(n))
        for attr in ATTRIBUTES}
    u_value = stream(seed, replication, Purpose.DEAL_VALUE, ckey).random(n)
    return ChannelLeads(arrival, attributes, deal_values(sc, attributes, u_value))


def mix_indices(sc: Scenario, channel: Channel, attr: str, u: FloatArray) -> IntArray:
    """Values of ``attr`` (indices) drawn from the channel's mix by the uniforms ``u``."""
    values = sc.values_of(attr)
    shares = np.array([channel.mix[attr].get(v, 0.0) for v in values])  # type: ignore[index]
    idx = np.searchsorted(np.cumsum(shares) / shares.sum(), u, side="right")
    return np.minimum(idx, len(values) - 1).astype(np.int64)


def deal_values(sc: Scenario, attributes: dict[str, IntArray], u: FloatArray) -> FloatArray:
    """Deal values (currency) of leads with these attributes, by the uniforms ``u``."""
    value = sc.deal_value.distribution.ppf(u)
    for attr, factors in sc.deal_value.multipliers.items():
        table = np.array([factors.get(v, 1.0) for v in sc.values_of(attr)])
        value = value * table[attributes[attr]]
    return value


class OneLead:
    """Attributes, deal value and band of one lead from its uniforms, as Python numbers.

    For leads made during the run (repeat opportunities, referrals), one at a time: the
    same values ``mix_indices``, ``deal_values`` and the bands give for an array, without
    a numpy call per attribute (the cumulative shares and factors are kept as floats).
    """

    def __init__(self, sc: Scenario) -> None:
        self._sc = sc
        self._cdf: dict[tuple[int, str], list[float]] = {}
        self._base = inverse(sc.deal_value.distribution).one
        self._factors = [(attr, [factors.get(v, 1.0) for v in sc.values_of(attr)])
                         for attr, factors in sc.deal_value.multipliers.items()]
        self._bounds = [sc.deal_value.bands[b] for b in sc.deal_value.band_names()]

    def attribute(self, channel: int, attr: str, u: float) -> int:
        """The index of ``attr``'s value drawn from channel ``channel``'s mix by ``u``."""
        cdf = self._cdf.get((channel, attr))
        if cdf is None:
            values = self._sc.values_of(attr)
            mix = self._sc.channels[channel].mix[attr]  # type: ignore[index]
            shares = np.array([mix.get(v, 0.0) for v in values])
            cdf = self._cdf[channel, attr] = (np.cumsum(shares) / shares.sum()).tolist()
        return min(bisect.bisect_right(cdf, u), len(cdf) - 1)

    def deal_value(self, attributes: dict[str, int], u: float) -> float:
        """The deal value (currency) of a lead with these attributes, by ``u``."""
        value = self._base(u)
        for attr, factors in self._factors:
            value = value * factors[attributes[attr]]
        return value

    def band(self, value: float) -> int:
        """The index of the deal-size band of ``value`` (0 without bands)."""
        return bisect.bisect_right(self._bounds, value) - 1 if self._bounds else 0


DENSE_AFTER_ROWS = 32
"""Rows a later attempt's column converts one by one, at least, before it converts whole."""


def sparse_rows(n_leads: int) -> int:
    """Rows a column of a sparse layer converts one by one before it converts whole.

    A sixteenth of the rows, or ``DENSE_AFTER_ROWS`` if that is more: a row read alone
    costs a few microseconds (the jump ahead and a scalar inverse CDF), the whole column
    a fraction of a microsecond a row but 8 bytes a row for each column and its uniforms.
    """
    return max(DENSE_AFTER_ROWS, n_leads // 16)


def laziness(n_leads: int, first: bool) -> tuple[bool, int]:
    """(Whether a layer's uniforms are made where read, rows converted before it is whole).

    A first attempt of a channel is read for most rows: drawn and converted whole at
    once. Later ones are read for a few rows (``sparse_rows``). A source of leads made
    during the run (``BLOCK_ROWS`` rows) holds a few leads: only their rows are drawn,
    one by one, and its columns never convert whole.
    """
    if n_leads <= BLOCK_ROWS:
        return True, n_leads
    return not first, 0 if first else sparse_rows(n_leads)


def stage_layer(
    sc: Scenario, source: Keys, n_leads: int, stage: Stage, attempt: int,
    seed: int, replication: int, columns: Columns | None = None,
) -> StageLayer:
    """The layer of (source, stage, attempt) for all ``n_leads`` leads of the source.

    The uniforms are drawn here; values are converted from them when first read.
    ``columns`` are the stage's ``stage_columns``, if the caller keeps them.
    """
    rng = stream(seed, replication, Purpose.STAGE, *source, name_key(stage.name), attempt)
    if columns is None:
        columns = stage_columns(sc, stage)
    sparse, dense_after = laziness(n_leads, attempt == 0)
    return StageLayer(Uniforms(rng, n_leads, _STAGE_COLUMNS, sparse=sparse), columns,
                      dense_after)


def stage_columns(sc: Scenario, stage: Stage) -> Columns:
    """A stage layer's columns: name -> (column of uniforms, transform to values)."""
    hpd = sc.calendar.hours_per_day
    handoff = stage.handoff or sc.handoff
    nurture = stage.failure.nurture_days

    # Columns the stage never reads are left out (its uniforms stay where they are in
    # the matrix, so the other columns' values do not move): an unread column would keep
    # its uniforms for the whole run. A change during a run makes the columns again.
    columns: Columns = {
        "work_days": (0, hours(stage.effort_hours, hpd)),
        "customer_days": (1, inverse(stage.customer_delay_days)),
        "u_outcome": (2, None),
        "u_route": (3, None),
        "handoff_days": (4, inverse(handoff.delay_days)),
        "u_info_loss": (5, None),
        "nurture_days": (7, inverse(nurture) if nurture else ZERO),
    }
    if stage.decline_delay_days is not None:
        columns["decline_days"] = (1, inverse(stage.decline_delay_days))
    if stage.visit:
        # One uniform for a visit's travel, whatever the zone: a lead's trip is as long
        # or short, relative to its zone, in every structure compared.
        columns.update({f"travel_days.{k}": (6, hours(zone.hours, hpd))
                        for k, zone in enumerate(travel_zones(sc))})
    return columns


def hours(dist: Distribution, hours_per_day: float) -> Transform:
    """Uniforms to a duration given in hours, in days."""
    return inverse(dist, hours_per_day)


class PartLayer(StageLayer):
    """Draws for the extra reps of joint work at one (channel, stage, attempt).

    Each kind of part (the stage's role in another team, or a joining role) and its
    number among its kind have a stream of their own, one row per lead of the channel.

    Columns: ``work_days`` (the part's effort) and ``travel_days`` by zone.
    """


def part_layer(
    sc: Scenario, source: Keys, n_leads: int, stage: Stage, attempt: int, joint: int,
    number: int, seed: int, replication: int,
) -> PartLayer:
    """The draws of a part of joint work for all ``n_leads`` leads of a source.

    Args:
        sc: The scenario.
        source: Stream keys of the leads' source (``channel_keys``, ``block_keys``).
        n_leads: Leads of the source.
        stage: The stage worked.
        attempt: Attempt at the stage (from 0).
        joint: Index of the joining role in ``stage.joint``, or -1 for the stage's own
            role in another team (a bundle worked by two product teams).
        number: The part's number among parts of its kind (from 0).
        seed: Root seed.
        replication: Replication index.
    """
    rng = stream(seed, replication, Purpose.JOINT, *source, name_key(stage.name),
                 attempt, joint + 1, number)
    sparse, dense_after = laziness(n_leads, attempt == 0)
    return PartLayer(Uniforms(rng, n_leads, 2, sparse=sparse), part_columns(sc, stage, joint),
                     dense_after)


def part_columns(sc: Scenario, stage: Stage, joint: int
                 ) -> Columns:
    """A part layer's columns: its effort and travel by zone."""
    hpd = sc.calendar.hours_per_day
    effort = stage.effort_hours if joint < 0 else stage.joint[joint].effort_hours
    travel = travel_zones(sc) if stage.visit else []  # read for visits only
    return {"work_days": (0, hours(effort, hpd)),
            **{f"travel_days.{k}": (1, hours(zone.hours, hpd))
               for k, zone in enumerate(travel)}}


class FollowUpLayer(StageLayer):
    """Draws for one follow-up touch of one (channel, stage, attempt).

    Each touch has a stream of its own, one row per lead of the channel, so a lead's
    first follow-ups are the same whatever number of them its kind of lead makes.

    Columns: ``gap_days`` (elapsed time before the touch) and ``work_days`` (its effort).
    """

    gap_days: Rows


def follow_up_layer(
    sc: Scenario, source: Keys, n_leads: int, stage: Stage, attempt: int, touch: int,
    seed: int, replication: int,
) -> FollowUpLayer:
    """The draws of follow-up ``touch`` (from 1) at a stage attempt for a source's leads."""
    rng = stream(seed, replication, Purpose.FOLLOW_UP, *source, name_key(stage.name),
                 attempt, touch)
    first = attempt == 0 and touch == 1
    sparse, dense_after = laziness(n_leads, first)
    return FollowUpLayer(Uniforms(rng, n_leads, 2, sparse=sparse),
                         follow_up_columns(sc, stage), dense_after)


def follow_up_columns(sc: Scenario, stage: Stage) -> Columns:
    """A follow-up layer's columns: the gap before the touch and its effort."""
    fu = stage.follow_ups
    assert fu is not None, "only stages with follow-ups have follow-up layers"
    return {"gap_days": (0, inverse(fu.gap_days)),
            "work_days": (1, hours(fu.effort_hours, sc.calendar.hours_per_day))}


def payment_draws(sc: Scenario, source: Keys, n_leads: int, seed: int,
                  replication: int) -> PaymentDraws:
    """Invoice delay, payment delay (days) and bad-debt uniforms for a source's leads."""
    u = stream(seed, replication, Purpose.PAYMENT, *source).random((n_leads, 3))
    pay = sc.payment
    return PaymentDraws(
        invoice_days=packed(pay.invoice_delay_days.ppf(np.ascontiguousarray(u[:, 0]))),
        payment_days=packed(pay.payment_days.ppf(np.ascontiguousarray(u[:, 1]))),
        u_bad_debt=packed(u[:, 2]),
    )
