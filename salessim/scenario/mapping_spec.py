"""A calibration mapping: where a CRM export is and which column means what.

```yaml
mapping_version: 1
name: Example Co.                       # the calibrated scenario's name
export_date: 2026-06-30                 # deals open on this day are open (censored)
opportunities:
  file: opportunities.csv               # CSV, Parquet or Excel, relative to this file
  date_format: "%d/%m/%Y"               # how the dates are written (strftime codes)
  columns: {id: Opportunity ID, owner: Owner, created: Created, closed: Close Date,
            outcome: Stage, amount: Amount, channel: Lead Source, segment: Segment}
  outcomes: {Closed Won: won, Closed Lost: lost, Open: open}
stage_history:                          # optional: one row per stage change
  file: stage_history.csv
  date_format: "%Y-%m-%d %H:%M"
  columns: {id: Opportunity ID, stage: To Stage, entered: Changed At}
lookups:                                # optional: tables joined by a key
  - {file: reps.xlsx, sheet: Reps, key: owner, on: Rep, columns: {team: Team}}
roles:
  - {name: ae, title: Account executive, salary_per_day: 480, owns_deals: true}
stages:                                 # the process, in order
  - {name: discovery, role: ae, labels: [Discovery]}
  - {name: proposal, role: ae, labels: [Proposal, Proposal Sent]}
assumptions:                            # what the data cannot tell, as key paths
  stages.proposal.effort_hours: {dist: triangular, low: 1, mode: 3, high: 6}
```

Only the reading checks the columns and rows of the data themselves
(``salessim.calibration``); this module checks the mapping's own shape.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from salessim.scenario.errors import KeyPathError, validate_document
from salessim.scenario.fields import Name, NonNegative

ATTRIBUTE_COLUMNS: tuple[str, ...] = ("channel", "grade", "region", "product", "segment")
"""Lead attributes an opportunity table may carry (each optional)."""

OPPORTUNITY_FIELDS: tuple[str, ...] = ("id", "owner", "created", "closed", "outcome",
                                       "amount", "team", *ATTRIBUTE_COLUMNS)
"""What an opportunity table's columns may mean; the first five are required."""

REQUIRED_OPPORTUNITY_FIELDS: tuple[str, ...] = ("id", "owner", "created", "closed", "outcome")

HISTORY_FIELDS: tuple[str, ...] = ("id", "stage", "entered", "owner")
"""What a stage history's columns may mean; the first three are required."""

OUTCOMES: tuple[str, ...] = ("won", "lost", "open")

Column = Annotated[str, Field(min_length=1, max_length=200)]
FileName = Annotated[str, Field(min_length=1, max_length=4096)]
DateFormat = Annotated[str, Field(min_length=2, max_length=64)]
KeyPath = Annotated[str, Field(min_length=1, max_length=200)]

WEEKDAYS: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

Weekday = Literal["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
WORKWEEK: tuple[Weekday, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri")

OWN_COLUMN_FIELDS: tuple[str, ...] = ("id", "owner", "created", "closed", "outcome", "amount")
"""Fields that need a column of their own (the team may share the region's column)."""

_DATE_CODES = "%Y (year), %m (month), %d (day), %H (hour), %M (minute)"


def one_line_problem(text: str) -> str | None:
    """What keeps ``text`` from being one line of plain text (a YAML comment), if anything."""
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Cs", "Cn", "Co", "Zl", "Zp"):
            return (f"must be one line of plain text; it has the character U+{ord(ch):04X} "
                    "(a line break or a control character)")
    return None


def date_format_problem(fmt: str) -> str | None:
    """What is wrong with a date format (strftime codes), if anything."""
    if "%" not in fmt:
        return f"{fmt!r} has no strftime codes; write it like %Y-%m-%d or %d/%m/%Y %H:%M"
    try:
        sample = dt.datetime(2025, 12, 31, 14, 30, 15, tzinfo=dt.UTC)
        dt.datetime.strptime(sample.strftime(fmt), fmt)
    except (ValueError, re.error) as err:
        bad = re.search(r"'(.)' is a bad directive", str(err))
        what = f"%{bad[1]} is not a strftime code" if bad else f"it cannot read dates ({err})"
        return f"{fmt!r}: {what}; the codes are {_DATE_CODES} and others"
    has = {code for code in re.findall(r"%(.)", fmt)}
    if not has & {"Y", "y", "G"} or not (has & {"d", "j"}):
        return (f"{fmt!r} has no year or no day; a date needs both, e.g. %d/%m/%Y or "
                "%Y-%m-%d %H:%M")
    if "d" in has and not has & {"m", "b", "B"}:
        return f"{fmt!r} has a day but no month (%m, %b or %B)"
    return None


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class TableSpec(_Spec):
    """A table in a file.

    Attributes:
        file: CSV (``.csv``), Parquet (``.parquet``) or Excel (``.xlsx``) file, relative
            to the mapping file. For a stage history, also an XES event log (``.xes``).
        sheet: The Excel sheet (the first one when omitted).
        delimiter: The CSV field separator.
        encoding: The CSV text encoding.
        date_format: How dates and times are written, in strftime codes
            (``%Y-%m-%d``, ``%d/%m/%Y``, ``%m/%d/%Y %H:%M``). Required for CSV and
            Excel text dates: ``01/02/2026`` is January or February only by the format.
            Parquet and XES dates are typed and need none.
    """

    file: FileName
    sheet: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    delimiter: Annotated[str, Field(min_length=1, max_length=1)] = ","
    encoding: Annotated[str, Field(min_length=1, max_length=40)] = "utf-8"
    date_format: DateFormat | None = None

    @field_validator("date_format")
    @classmethod
    def _has_codes(cls, v: str | None) -> str | None:
        problem = None if v is None else date_format_problem(v)
        if problem:
            raise ValueError(problem)
        return v

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, v: str) -> str:
        try:
            "a".encode(v)  # also refuses codecs that are not text encodings (base64)
        except LookupError:
            raise ValueError(f"unknown encoding {v!r}; e.g. utf-8, utf-8-sig, cp1252, "
                             "latin-1 or utf-16") from None
        return v

    @field_validator("delimiter")
    @classmethod
    def _separates(cls, v: str) -> str:
        if v in ('"', "\n", "\r"):
            raise ValueError(f"{v!r} cannot separate fields (it quotes values or ends lines); "
                             "e.g. ',', ';', '|' or a tab, written \"\\t\"")
        return v

    @property
    def kind(self) -> str:
        """``csv``, ``parquet``, ``excel`` or ``xes``, from the file's suffix."""
        suffix = self.file.rsplit(".", 1)[-1].lower() if "." in self.file else ""
        return {"csv": "csv", "txt": "csv", "parquet": "parquet", "xlsx": "excel",
                "xlsm": "excel", "xes": "xes"}.get(suffix, "")

    @model_validator(mode="after")
    def _known_kind(self) -> TableSpec:
        if not self.kind:
            raise KeyPathError([("file", f"{self.file!r}: the file must end in .csv, "
                                         ".parquet, .xlsx or (for a stage history) .xes")])
        if self.sheet is not None and self.kind != "excel":
            raise KeyPathError([("sheet", "only an Excel file (.xlsx) has sheets")])
        return self


def _columns_check(columns: dict[str, str], allowed: tuple[str, ...],
                   required: tuple[str, ...]) -> list[tuple[str, str]]:
    problems = [(f"columns.{k}", f"unknown field {k!r}; the fields are "
                                 f"{', '.join(allowed)}") for k in columns if k not in allowed]
    missing = [k for k in required if k not in columns]
    if missing:
        problems.append(("columns", f"missing {', '.join(missing)}: say which column holds "
                                    f"each of {', '.join(required)}"))
    owner_of: dict[str, str] = {}
    for k, column in columns.items():
        if k not in OWN_COLUMN_FIELDS:
            continue
        if column.strip() in owner_of:
            problems.append((f"columns.{k}", (
                f"{column!r} is already the column of {owner_of[column.strip()]}; "
                f"each of {', '.join(OWN_COLUMN_FIELDS)} needs a column of its own")))
        owner_of.setdefault(column.strip(), k)
    return problems


def _not_xes(spec: TableSpec, what: str) -> list[tuple[str, str]]:
    if spec.kind == "xes":
        return [("file", f"{spec.file!r}: {what} cannot be an XES event log (only the stage "
                         "history can); use .csv, .parquet or .xlsx")]
    return []


class OpportunityTable(TableSpec):
    """The opportunity table: one row per deal.

    Attributes:
        columns: Field -> the table's column name. Required: ``id``, ``owner``,
            ``created``, ``closed`` (empty while open) and ``outcome``; optional:
            ``amount`` (currency), ``team`` and the lead attributes ``channel``,
            ``grade``, ``region``, ``product`` and ``segment``.
        outcomes: The CRM's outcome labels -> ``won``, ``lost`` or ``open``; every label
            in the table must be listed.
        values: Optional renaming of attribute values, per field, e.g.
            ``{channel: {Web Form: web}}``; values not listed are kept (made into
            names: ``Trade Show`` becomes ``trade_show``).
    """

    columns: dict[str, Column] = Field(min_length=1)
    outcomes: dict[Annotated[str, Field(min_length=1, max_length=200)],
                   Literal["won", "lost", "open"]] = Field(min_length=1)
    values: dict[Literal["channel", "grade", "region", "product", "segment", "team"],
                 dict[str, Name]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _fields(self) -> OpportunityTable:
        problems = _not_xes(self, "the opportunity table") + _columns_check(
            self.columns, OPPORTUNITY_FIELDS, REQUIRED_OPPORTUNITY_FIELDS)
        if problems:
            raise KeyPathError(problems)
        return self


class HistoryTable(TableSpec):
    """A stage history: one row per deal entering a stage.

    Attributes:
        columns: Field -> column. Required: ``id`` (the opportunity), ``stage`` (the
            stage entered) and ``entered`` (when); optional ``owner``. For an XES log
            the defaults are ``case:concept:name``, ``concept:name``,
            ``time:timestamp`` and ``org:resource``. salessim's own XES event log
            (``write_event_log``) stamps each activity when its work ends; with
            ``columns: {entered: enable_timestamp}`` it is read at the time the lead
            became ready for the stage (an activity enters the log once decided, so a
            deal awaiting an answer on the last day shows in the stage before).
    """

    columns: dict[str, Column] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _fields(self) -> HistoryTable:
        required = () if self.kind == "xes" else HISTORY_FIELDS[:3]
        problems = _columns_check(self.columns, HISTORY_FIELDS, required)
        if problems:
            raise KeyPathError(problems)
        return self

    def column(self, field: str) -> str | None:
        """The column holding ``field`` (XES logs have standard names)."""
        xes = {"id": "case:concept:name", "stage": "concept:name",
               "entered": "time:timestamp", "owner": "org:resource"}
        return self.columns.get(field, xes[field] if self.kind == "xes" else None)


class LookupTable(TableSpec):
    """A table joined to the opportunities by a key, e.g. reps to teams.

    Attributes:
        key: The opportunity field joined on (``owner``, ``product``, ...).
        on: The lookup table's column holding that key.
        columns: Fields the lookup gives (``team``, ``region``, ``segment``, ...) ->
            its column; a field the opportunity table has too is filled where the
            opportunity's own value is missing.
    """

    key: Literal["owner", "channel", "grade", "region", "product", "segment", "team"]
    on: Column
    columns: dict[Literal["team", "channel", "grade", "region", "product", "segment"],
                  Column] = Field(min_length=1)

    @model_validator(mode="after")
    def _table(self) -> LookupTable:
        problems = _not_xes(self, "a lookup")
        if problems:
            raise KeyPathError(problems)
        return self


class RoleSpec(_Spec):
    """A role of the calibrated scenario.

    Attributes:
        name: Role name the stages use.
        title: Human-readable title.
        salary_per_day: Fully loaded cost of one rep per working day (currency).
        owns_deals: Whether the opportunity table's owners are this role's reps; their
            teams and headcounts then come from the data. Exactly one role owns deals.
        headcount: For a role that does not own deals: its reps, in a central team named
            after the role.
        non_selling_share: Share of the day away from deals' work (see
            ``Role.non_selling_share``).
    """

    name: Name
    title: str = ""
    salary_per_day: NonNegative
    owns_deals: bool = False
    headcount: Annotated[int, Field(ge=1, le=10_000)] | None = None
    non_selling_share: Annotated[float, Field(ge=0.0, le=0.9, allow_inf_nan=False)] = 0.0

    @model_validator(mode="after")
    def _headcount(self) -> RoleSpec:
        # A missing headcount is checked with the other roles (MappingSpec): when no role
        # owns deals, the owns_deals missing is the problem, not the headcount.
        if self.owns_deals and self.headcount is not None:
            raise KeyPathError([("headcount", "the deal owners' headcount comes from the data "
                                              "(owners active per month); leave it out")])
        return self


class StageSpec(_Spec):
    """A stage of the calibrated process, with the CRM stage labels that mean it.

    Attributes:
        name: Stage name in the scenario.
        role: The role that works it.
        labels: The stage history's labels for this stage.
    """

    name: Name
    role: Name
    labels: tuple[Annotated[str, Field(min_length=1, max_length=200)], ...] = Field(
        default=(), strict=False)


class CalendarSpec(_Spec):
    """How CRM dates become the simulation's working days.

    Attributes:
        weekdays: The days of the week that are worked.
        holidays: Dates not worked.
        hours_per_day: Working hours in a day.
    """

    weekdays: tuple[Weekday, ...] = Field(default=WORKWEEK, min_length=1, strict=False)
    holidays: tuple[dt.date, ...] = Field(default=(), strict=False)
    hours_per_day: Annotated[float, Field(ge=1.0, le=24.0)] = 8.0

    @field_validator("holidays", mode="before")
    @classmethod
    def _dates(cls, v: Any) -> Any:
        if not isinstance(v, list | tuple):
            return v
        problems = []
        out = []
        for i, x in enumerate(v):
            try:
                out.append(dt.date.fromisoformat(x) if isinstance(x, str) else x)
            except ValueError:
                problems.append((f"[{i}]", f"{x!r} is not a date written as YYYY-MM-DD"))
        if problems:
            raise KeyPathError(problems)
        return tuple(out)

    @property
    def weekmask(self) -> str:
        """Numpy's busday weekmask, e.g. ``1111100``."""
        return "".join("1" if d in self.weekdays else "0" for d in WEEKDAYS)


class MappingSpec(_Spec):
    """A calibration mapping file.

    Attributes:
        mapping_version: Always 1.
        name: Name of the scenario written.
        description: Its description.
        currency: Currency of the amounts.
        export_date: The day the data were taken from the CRM: a deal with no close
            date is open on that day; nothing after it is known.
        calendar: Working days and hours.
        opportunities: The opportunity table.
        stage_history: The optional stage history.
        lookups: Optional tables joined by a key.
        roles: The roles of the process.
        stages: The stages, in order; with no stage history, exactly one.
        assumptions: Key path -> value for what the data cannot tell (efforts,
            salaries, payment terms), applied to the calibrated scenario like
            ``Scenario.with_changes``; each is written into the scenario as an
            assumption.
        holdout_months: How many final months the hold-out test keeps back.
    """

    mapping_version: Literal[1]
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    currency: Annotated[str, Field(min_length=1, max_length=8)] = "EUR"
    export_date: dt.date
    calendar: CalendarSpec = CalendarSpec()
    opportunities: OpportunityTable
    stage_history: HistoryTable | None = None
    lookups: tuple[LookupTable, ...] = Field(default=(), strict=False, max_length=20)
    roles: tuple[RoleSpec, ...] = Field(min_length=1, max_length=20, strict=False)
    stages: tuple[StageSpec, ...] = Field(min_length=1, max_length=30, strict=False)
    assumptions: dict[KeyPath, Any] = Field(default_factory=dict)
    holdout_months: Annotated[int, Field(ge=1, le=24)] = 3

    @field_validator("name", "currency")
    @classmethod
    def _one_line(cls, v: str) -> str:
        # Both are written into the calibrated scenario's header comment.
        problem = one_line_problem(v)
        if problem:
            raise ValueError(problem)
        return v

    @field_validator("export_date", mode="before")
    @classmethod
    def _iso_date(cls, v: Any) -> Any:
        if isinstance(v, str):
            try:
                return dt.date.fromisoformat(v)
            except ValueError:
                raise ValueError(f"{v!r} is not a date written as YYYY-MM-DD") from None
        if isinstance(v, dt.datetime) or not isinstance(v, dt.date):
            raise ValueError(f"must be a date written as YYYY-MM-DD, e.g. 2026-06-30; got "
                             f"{v!r}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> MappingSpec:
        problems = self._roles_check() + self._lookups_check() + self._stages_check()
        if problems:
            raise KeyPathError(problems)
        return self

    def _roles_check(self) -> list[tuple[str, str]]:
        owners = [i for i, r in enumerate(self.roles) if r.owns_deals]
        if not owners:
            return [("roles", "no role has owns_deals: true; exactly one must: the role of "
                              "the people in the opportunity table's owner column")]
        problems = [(f"roles[{i}].headcount", "missing; a role that does not own deals has "
                                              "no reps in the data, so say how many it has")
                    for i, r in enumerate(self.roles)
                    if not r.owns_deals and r.headcount is None]
        if len(owners) > 1:
            problems.append(("roles", "exactly one role must have owns_deals: true (the role "
                                      f"of the deal owners); {len(owners)} have"))
        return problems

    def _lookups_check(self) -> list[tuple[str, str]]:
        known = {"owner", *self.opportunities.columns}
        problems = []
        for i, lookup in enumerate(self.lookups):
            if lookup.key not in known:
                problems.append((f"lookups[{i}].key", (
                    f"{lookup.key!r}: the opportunity table has no {lookup.key} to join on; "
                    f"name its column in opportunities.columns.{lookup.key}")))
            known |= set(lookup.columns)
        return problems

    def _stages_check(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        names = {r.name for r in self.roles}
        problems += [(f"stages[{i}].role", f"unknown role {s.role!r}; the roles are "
                                           f"{', '.join(sorted(names))}")
                     for i, s in enumerate(self.stages) if s.role not in names]
        if self.stage_history is None and len(self.stages) > 1:
            problems.append(("stages", "without a stage_history the data show only how "
                                       "deals close; give one stage"))
        if self.stage_history is not None:
            problems += [(f"stages[{i}].labels", "missing; name the stage history's labels "
                                                 "for this stage")
                         for i, s in enumerate(self.stages) if not s.labels]
        outcomes = {k.strip() for k in self.opportunities.outcomes}
        seen: dict[str, int] = {}
        for i, s in enumerate(self.stages):
            for label in s.labels:
                if label.strip() in seen:
                    problems.append((f"stages[{i}].labels", f"{label!r} is already a label "
                                                            f"of stages[{seen[label.strip()]}]"))
                if label.strip() in outcomes:
                    problems.append((f"stages[{i}].labels", (
                        f"{label!r} is an outcome label (opportunities.outcomes): a stage "
                        "history row with it marks the close, not a stage")))
                seen.setdefault(label.strip(), i)
        return problems

    @property
    def owner_role(self) -> RoleSpec:
        """The role whose reps own the deals."""
        return next(r for r in self.roles if r.owns_deals)

    @classmethod
    def from_document(cls, document: Any, source: str) -> MappingSpec:
        """Validate the plain data of a mapping file.

        Raises:
            ScenarioError: Naming ``source``, the key path and what is allowed.
        """
        return validate_document(cls, document, source, (
            "a calibration mapping is a mapping with the keys mapping_version, name, "
            "export_date, opportunities, roles and stages"))
