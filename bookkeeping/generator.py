"""Realistic, reproducible production data: job reports as LHCb's productions would send them.

``generate_reports(files, seed)`` yields job reports whose output files add up to exactly
``files``. Reports come from processing *chains*: real data (RAW -> SDST -> DST + MDST) and
simulation (SIM -> DIGI -> ALLSTREAMS.DST). Each step of a chain is a production of its own,
and its jobs read the files of the step before (ancestry). The same ``(files, seed)`` gives
the same reports, byte for byte, on every machine.
"""

from __future__ import annotations

import random
import zlib
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bookkeeping.writer.model import (
    EventTypeSpec,
    JobReport,
    OutputFileSpec,
    QualitySpec,
    ReplicaSpec,
)

TIER1_SITES = ("CNAF", "GRIDKA", "IN2P3", "PIC", "RAL", "SARA")
RECALL_AREAS = tuple(f"{host} {number}" for host in ("f0a", "f0b", "f0c") for number in (14, 15))
FIRST_DIRAC_JOB_ID = 40_000_000
# Each seed numbers its jobs in a block of its own, so productions generated with different
# seeds go into one bookkeeping side by side instead of being taken for the same jobs.
DIRAC_JOB_IDS_PER_SEED = 1_000_000_000
EPOCH = datetime(2012, 4, 1, 0, 0, 0)

EVENT_TYPES = {
    90000000: ("Full stream", "pp collisions", "Full"),
    91000000: ("EXPRESS stream", "pp collisions", "Express"),
    11102003: ("Bd_K+pi-=DecProdCut", "B0", "B0 -> K+ pi-"),
    13104011: ("Bs_phiphi=DecProdCut", "B_s0", "B_s0 -> phi phi"),
    12143001: ("Bu_JpsiK,mm=DecProdCut", "B+", "B+ -> J/psi K+"),
    30000000: ("minbias", "pp collisions", "minimum bias"),
}


@dataclass(frozen=True)
class Step:
    file_types: tuple[str, ...]  # one output file of each type per job
    program: tuple[str, str]
    processing_pass: str
    size_mb: tuple[int, int]
    visible: bool
    inputs_per_job: int  # 0 for the first step of a chain
    event_fraction: float  # events kept from the input


@dataclass(frozen=True)
class Chain:
    config: tuple[str, str]
    conditions: str
    event_type: int
    steps: tuple[Step, ...]
    real_data: bool


_REAL_STEPS = (
    Step(("RAW",), ("Moore", "v14r2"), "Real Data", (2500, 3500), True, 0, 1.0),
    Step(("SDST",), ("Brunel", "v43r2p2"), "Real Data/Reco14", (1200, 1800), False, 1, 1.0),
    Step(
        ("DST", "MDST"),
        ("DaVinci", "v32r2p1"),
        "Real Data/Reco14/Stripping20",
        (300, 2500),
        True,
        2,
        0.1,
    ),
)
_MC_STEPS = (
    Step(("SIM",), ("Gauss", "v45r3"), "Sim08a", (800, 1200), False, 0, 1.0),
    Step(("DIGI",), ("Boole", "v26r3"), "Sim08a/Digi13", (400, 700), False, 1, 1.0),
    Step(
        ("ALLSTREAMS.DST",),
        ("DaVinci", "v32r2p1"),
        "Sim08a/Digi13/Trig0x409f0045/Reco14a/Stripping20NoPrescalingFlagged",
        (100, 400),
        True,
        1,
        0.4,
    ),
)

CHAINS = (
    Chain(("LHCb", "Collision12"), "Beam4000GeV-VeloClosed-MagDown", 90000000, _REAL_STEPS, True),
    Chain(("LHCb", "Collision12"), "Beam4000GeV-VeloClosed-MagUp", 90000000, _REAL_STEPS, True),
    Chain(("LHCb", "Collision11"), "Beam3500GeV-VeloClosed-MagDown", 91000000, _REAL_STEPS, True),
    Chain(("MC", "2012"), "Beam4000GeV-2012-MagDown-Nu2.5-Pythia8", 11102003, _MC_STEPS, False),
    Chain(("MC", "2012"), "Beam4000GeV-2012-MagUp-Nu2.5-Pythia8", 13104011, _MC_STEPS, False),
    Chain(("MC", "2011"), "Beam3500GeV-2011-MagDown-Nu2-Pythia6", 12143001, _MC_STEPS, False),
    Chain(("MC", "2012"), "Beam4000GeV-2012-MagDown-Nu2.5-Pythia8", 30000000, _MC_STEPS, False),
)


@dataclass
class _Made:
    lfn: str
    events: int
    run: int | None


@dataclass
class _ChainState:
    chain: Chain
    productions: tuple[int, ...]
    jobs_done: list[int]
    waiting: list[deque[_Made]] = field(default_factory=list)  # unconsumed outputs per step


class _Generator:
    def __init__(self, files: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.remaining = files
        self.dirac_job_id = FIRST_DIRAC_JOB_ID + seed * DIRAC_JOB_IDS_PER_SEED
        self.clock = EPOCH
        self.run = 111_000 + self._int(1000)
        first = 10_000 + self._int(20_000)
        self.states = [
            _ChainState(
                chain,
                tuple(first + 10 * index + step for step in range(len(chain.steps))),
                [0] * len(chain.steps),
                [deque() for _ in chain.steps],
            )
            for index, chain in enumerate(CHAINS)
        ]

    def _int(self, low: int, high: int | None = None) -> int:
        """Like ``randrange`` (low <= n < high, or 0 <= n < low), several times faster."""
        if high is None:
            low, high = 0, low
        return low + int(self.rng.random() * (high - low))

    def reports(self) -> Iterator[JobReport]:
        while self.remaining > 0:
            state = self.rng.choice(self.states)
            step = self._ready_step(state)
            yield self._job(state, step)

    def _ready_step(self, state: _ChainState) -> int:
        """The deepest step whose inputs are waiting; the first step otherwise."""
        for index in range(len(state.chain.steps) - 1, 0, -1):
            if len(state.waiting[index - 1]) >= state.chain.steps[index].inputs_per_job:
                return index
        return 0

    def _job(self, state: _ChainState, index: int) -> JobReport:
        chain, step, rng = state.chain, state.chain.steps[index], self.rng
        state.jobs_done[index] += 1
        self.dirac_job_id += 1
        self.clock += timedelta(seconds=self._int(30, 600))
        production, job_number = state.productions[index], state.jobs_done[index]
        inputs = [state.waiting[index - 1].popleft() for _ in range(step.inputs_per_job)]
        if inputs:
            events_in = sum(made.events for made in inputs)
            run = inputs[0].run
        else:
            events_in = self._int(20_000, 60_000)
            run = self._next_run() if chain.real_data else None
        outputs = []
        for number, file_type in enumerate(step.file_types[: self.remaining], start=1):
            events = max(1, int(events_in * step.event_fraction * rng.uniform(0.5, 1.0)))
            lfn = (
                f"/lhcb/{chain.config[0]}/{chain.config[1]}/{file_type}/{production:08d}/"
                f"{job_number // 10_000:04d}/{production:08d}_{job_number:08d}_{number}."
                f"{file_type.lower()}"
            )
            outputs.append(self._output(lfn, file_type, events, step, chain))
            if index + 1 < len(chain.steps):
                state.waiting[index].append(_Made(lfn, events, run))
        self.remaining -= len(outputs)
        return JobReport(
            config_name=chain.config[0],
            config_version=chain.config[1],
            job_date=self.clock,
            dirac_job_id=self.dirac_job_id,
            production=production,
            conditions=chain.conditions,
            processing_pass=step.processing_pass,
            run=run,
            parameters=self._job_parameters(step, events_in),
            input_files=tuple(made.lfn for made in inputs),
            output_files=tuple(outputs),
            event_types=(EventTypeSpec(chain.event_type, *EVENT_TYPES[chain.event_type]),),
            source=f"generated job {self.dirac_job_id}",
        )

    def _next_run(self) -> int:
        if self.rng.random() < 0.3:
            self.run += self._int(1, 4)
        return self.run

    def _job_parameters(self, step: Step, events: int) -> tuple[tuple[str, str], ...]:
        rng = self.rng
        cpu = rng.uniform(1_000, 80_000)
        return (
            ("CPUTime", f"{cpu:.1f}"),
            ("DIRAC_Version", "v6r8"),
            ("ExecTime", f"{cpu * rng.uniform(1.0, 1.3):.1f}"),
            ("Host", f"lxbatch{self._int(1000, 9999)}.cern.ch"),
            ("NumberOfEvents", str(events)),
            ("ProgramName", step.program[0]),
            ("ProgramVersion", step.program[1]),
        )

    def _output(
        self, lfn: str, file_type: str, events: int, step: Step, chain: Chain
    ) -> OutputFileSpec:
        rng = self.rng
        guid = _uuid4(rng.getrandbits(128))
        size = self._int(step.size_mb[0], step.size_mb[1]) * 1_048_576 + self._int(1_048_576)
        checksum = f"{zlib.adler32(f'{guid}{size}'.encode()):08x}"
        return OutputFileSpec(
            lfn=lfn,
            file_type=file_type,
            file_type_version="ROOT" if file_type != "RAW" else "MDF",
            guid=guid,
            size=size,
            events=events,
            checksum=checksum,
            event_type=chain.event_type,
            creation_time=self.clock,
            visible=step.visible,
            replicas=self._replicas(lfn),
            quality=self._quality(chain),
        )

    def _replicas(self, lfn: str) -> tuple[ReplicaSpec, ...]:
        rng = self.rng
        tier1 = rng.choice(TIER1_SITES)
        copies = [ReplicaSpec("CERN", "tape", pfn=f"srm://srm-lhcb.cern.ch/castor{lfn}")]
        if rng.random() < 0.6:
            status = "lost" if rng.random() < 0.02 else "available"
            copies.append(
                ReplicaSpec(tier1, "disk", status=status, pfn=f"srm://{tier1.lower()}.grid{lfn}")
            )
        if rng.random() < 0.25:
            for area in sorted(rng.sample(RECALL_AREAS, self._int(1, 3))):
                copies.append(ReplicaSpec("CERN", "recall", area=area))
        return tuple(copies)

    def _quality(self, chain: Chain) -> tuple[QualitySpec, ...]:
        draw = self.rng.random()
        if not chain.real_data and draw < 0.5:
            return ()
        flag = "OK" if draw < 0.9 else ("BAD" if draw < 0.95 else "UNCHECKED")
        return (QualitySpec("DQ", flag),)


def _uuid4(bits: int) -> str:
    """A version-4 UUID string from 128 random bits (what ``uuid.uuid4`` does, without the
    object)."""
    bits = (bits & ~(0xF000 << 64)) | (0x4000 << 64)  # version 4
    bits = (bits & ~(0xC000 << 48)) | (0x8000 << 48)  # RFC 4122 variant
    text = f"{bits:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def generate_reports(files: int, seed: int = 0) -> Iterator[JobReport]:
    """Job reports with exactly ``files`` output files in all, reproducible from ``seed``."""
    if files < 0:
        raise ValueError("the number of files must not be negative")
    if seed < 0:
        raise ValueError("the seed must not be negative")
    return _Generator(files, seed).reports()
