"""A single-node Slurm for the test suite: munge, MariaDB + slurmdbd (accounting), slurmctld, slurmd.

Used by ``tests/test_slurm.py``. :func:`start` returns a :class:`Cluster` or the reason Slurm cannot be had
here (not root, not Debian, packages that cannot be installed, daemons of another Slurm half running...).
It installs the Debian packages when they are missing (about 25 s), writes its own configuration (no
systemd, no cgroups: it runs in a container), starts the daemons (about 3 s) and records their process
ids; :meth:`Cluster.stop` stops exactly the daemons it started, in reverse order. A Slurm that is already
up and answering is used as it is and left running.

The configuration follows ``../shared/tools/slurm-single-node`` (checked on these machines), with a short
``KillWait`` so that a cancelled job ends within seconds.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

PACKAGES = ("slurm-wlm", "slurmdbd", "munge", "mariadb-server")
DAEMONS = ("slurmd", "slurmctld", "slurmdbd", "mariadbd", "munged")
SLURM_CONF = """# Single-node Slurm for the test suite (written by tests/slurm_cluster.py)
ClusterName=local
SlurmctldHost={host}
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurm/slurmctld.pid
SlurmdPidFile=/run/slurm/slurmd.pid
SlurmctldLogFile={state}/slurmctld.log
SlurmdLogFile={state}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
MailProg=/bin/true
DefMemPerCPU=500
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=6819
InactiveLimit=0
MinJobAge=300
KillWait=3
Waittime=0
SchedulerParameters=sched_interval=2
NodeName={host} CPUs={cpus} RealMemory={mem} State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""
SLURMDBD_CONF = """AuthType=auth/munge
DbdHost=localhost
DbdPort=6819
SlurmUser=root
PidFile=/run/slurm/slurmdbd.pid
LogFile={state}/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=slurmpw
StorageLoc=slurm_acct_db
"""


def _ok(cmd: list[str], timeout: float = 10) -> bool:
    try:
        return subprocess.run(cmd, capture_output=True, timeout=timeout).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _running(name: str) -> list[int]:
    out = subprocess.run(["pgrep", "-x", name], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def _wait(check, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not come up within {seconds:.0f} s")


@dataclass
class Cluster:
    """A running single-node Slurm: partition ``debug``; ``started`` holds the daemons this fixture started
    (empty when an existing Slurm was reused)."""

    state: Path
    started: list[tuple[str, int]] = field(default_factory=list)
    processes: list[subprocess.Popen] = field(default_factory=list)

    def stop(self) -> list[str]:
        """Stop the daemons this fixture started, in reverse order; returns what it stopped."""
        done = []
        for name, pid in reversed(self.started):
            try:
                os.kill(pid, 15)
            except ProcessLookupError:
                continue
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                proc = next((p for p in self.processes if p.pid == pid), None)
                if proc is not None and proc.poll() is not None:
                    break
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
            else:
                try:
                    os.kill(pid, 9)
                except ProcessLookupError:
                    pass
            done.append(f"{name} ({pid})")
        self.started.clear()
        return done


def unavailable() -> str | None:
    """Why Slurm cannot be started here, or None."""
    if os.name != "posix" or os.geteuid() != 0:
        return "the Slurm test needs root (it installs and starts Slurm's daemons)"
    if not Path("/etc/debian_version").is_file() or shutil.which("apt-get") is None:
        return "the Slurm test needs Debian (apt-get) to install Slurm"
    return None


def _install(log: Path) -> None:
    if all(shutil.which(b) for b in ("slurmctld", "slurmd", "slurmdbd", "munged", "mariadbd", "sacct")):
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    with open(log, "a") as out:
        subprocess.run(["apt-get", "update", "-qq"], stdout=out, stderr=out, env=env, timeout=600, check=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", *PACKAGES],
            stdout=out,
            stderr=out,
            env=env,
            timeout=900,
            check=True,
        )


def start(state: Path) -> Cluster | str:
    """Start (installing if needed) a single-node Slurm, or return why it cannot be had."""
    reason = unavailable()
    if reason:
        return reason
    state = Path(state)
    state.mkdir(parents=True, exist_ok=True)
    if shutil.which("sinfo") and _ok(["sinfo", "-h"]) and _ok(["squeue", "-h"]):
        return Cluster(state)  # a Slurm is already up: use it, leave it running
    busy = [d for d in DAEMONS if _running(d)]
    if busy:
        return (
            f"daemons of another Slurm installation are running ({', '.join(busy)}) but Slurm does not answer"
        )
    try:
        _install(state / "apt.log")
    except (subprocess.SubprocessError, OSError) as exc:
        return f"could not install Slurm's Debian packages ({type(exc).__name__}; see {state / 'apt.log'})"
    cluster = Cluster(state)
    try:
        _start_daemons(cluster)
    except Exception as exc:  # noqa: BLE001 - any failure: stop what was started, then skip
        cluster.stop()
        return f"Slurm did not start: {exc} (logs in {state})"
    return cluster


def _spawn(cluster: Cluster, name: str, cmd: list[str]) -> subprocess.Popen:
    out = open(cluster.state / f"{name}.out", "ab")  # noqa: SIM115 - kept open for the daemon's life
    proc = subprocess.Popen(cmd, stdout=out, stderr=out, start_new_session=True)
    cluster.processes.append(proc)
    cluster.started.append((name, proc.pid))
    return proc


def _start_daemons(cluster: Cluster) -> None:
    state = cluster.state
    host = socket.gethostname().split(".")[0]
    cpus = os.cpu_count() or 1
    mem = int(Path("/proc/meminfo").read_text().split()[1]) // 1024 * 7 // 10
    for d in (
        "/run/munge",
        "/run/mysqld",
        "/run/slurm",
        "/var/spool/slurmctld",
        "/var/spool/slurmd",
        "/etc/slurm",
    ):
        Path(d).mkdir(parents=True, exist_ok=True)
    shutil.chown("/run/munge", "munge", "munge")
    shutil.chown("/run/mysqld", "mysql", "mysql")
    Path("/etc/slurm/slurm.conf").write_text(SLURM_CONF.format(host=host, cpus=cpus, mem=mem, state=state))
    dbd = Path("/etc/slurm/slurmdbd.conf")
    dbd.write_text(SLURMDBD_CONF.format(state=state))
    dbd.chmod(0o600)
    key = Path("/etc/munge/munge.key")
    if not key.is_file() or key.stat().st_size == 0:
        subprocess.run(["mungekey", "--create"], check=True, capture_output=True)
        shutil.chown(key, "munge", "munge")
        key.chmod(0o400)
    pidfile = Path("/run/munge/munged.pid")
    pidfile.unlink(missing_ok=True)
    subprocess.run(
        ["su", "-s", "/bin/sh", "munge", "-c", "/usr/sbin/munged"], check=True, capture_output=True
    )
    _wait(lambda: pidfile.is_file() and pidfile.read_text().strip().isdigit(), 10, "munged")
    cluster.started.append(("munged", int(pidfile.read_text().strip())))
    _spawn(cluster, "mariadbd", ["/usr/sbin/mariadbd", "--user=mysql"])
    _wait(lambda: _ok(["mariadb", "-e", "select 1"]), 60, "MariaDB")
    subprocess.run(
        [
            "mariadb",
            "-e",
            "CREATE DATABASE IF NOT EXISTS slurm_acct_db; "
            "CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'slurmpw'; "
            "GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';",
        ],
        check=True,
        capture_output=True,
    )
    _spawn(cluster, "slurmdbd", ["slurmdbd", "-D"])
    _wait(lambda: _ok(["sacctmgr", "-n", "show", "cluster"]), 60, "slurmdbd")
    clusters = subprocess.run(
        ["sacctmgr", "-n", "show", "cluster", "format=cluster"], capture_output=True, text=True
    )
    if "local" not in clusters.stdout:
        subprocess.run(["sacctmgr", "-i", "add", "cluster", "local"], check=True, capture_output=True)
    _spawn(cluster, "slurmctld", ["slurmctld", "-D"])
    _spawn(cluster, "slurmd", ["slurmd", "-D"])

    def idle() -> bool:
        out = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True)
        return out.stdout.strip() == "idle"

    _wait(idle, 60, "the Slurm node")
