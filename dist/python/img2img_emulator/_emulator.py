"""`start()`: one `emulator` process on a free loopback port, for as long as a test needs it."""

import http.client
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import weakref

from ._commands import command
from ._scenarios import emulator_scenario

#: The emulator's exit status when it cannot listen on the port it was given.
_CANNOT_LISTEN = 1
#: Tries at a port: another process can take the free port between our check and the emulator's bind.
_PORT_TRIES = 5
#: Lines of the emulator's output quoted in an error.
_TAIL_LINES = 20
#: The emulator's health route (any answer counts, so the readiness check needs nothing more).
_HEALTH_PATH = "/emulator/health"


class EmulatorError(RuntimeError):
    """The emulator did not start (bad provider or scenario, no free port, no answer in time);
    the message quotes its last lines of output."""


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(port, timeout):
    """Whether an HTTP server answers on the port (any status counts)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", _HEALTH_PATH)
        connection.getresponse().read()
        return True
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


class Emulator:
    """A running `emulator` process serving one provider on a loopback port.

    `base_url` is the origin to give the provider's SDK (every path is the provider's own), and
    `api_key` the one key it accepts. Use it as a context manager, or call `stop()`.
    """

    def __init__(self, provider, base_url, api_key, process, workdir, log_path):
        #: The provider served (the id given to `start`).
        self.provider = provider
        #: The origin the emulator serves on, e.g. `http://127.0.0.1:41234` (no trailing slash).
        self.base_url = base_url
        #: The key the emulator accepts; any other is refused as the provider refuses it.
        self.api_key = api_key
        self._process = process
        self._log_path = log_path
        self._final_output = None
        self._finalizer = weakref.finalize(self, _terminate, process, workdir)

    def __repr__(self):  # never the key
        state = "running" if self.running else "stopped"
        return f"<Emulator {self.provider} at {self.base_url}, {state}>"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    @property
    def running(self):
        """Whether the process is still running."""
        return self._process.poll() is None

    @property
    def pid(self):
        """The emulator process's id."""
        return self._process.pid

    @property
    def output(self):
        """What the emulator printed so far (one line per request; never a key)."""
        if self._final_output is not None:
            return self._final_output
        try:
            with open(self._log_path, encoding="utf-8", errors="replace") as log:
                return log.read()
        except OSError:
            return ""

    def stop(self, timeout=10.0):
        """Stops the emulator (Ctrl-C, then a kill after `timeout` seconds) and removes its
        temporary files; returns its exit status. Calling it again does nothing."""
        if self._final_output is None:
            _interrupt(self._process, timeout)
            self._final_output = self.output
            self._finalizer()
        return self._process.returncode


def _interrupt(process, timeout):
    if process.poll() is not None:
        return
    try:
        if os.name == "posix":
            process.send_signal(signal.SIGINT)  # the emulator shuts down gracefully on Ctrl-C
        else:
            process.terminate()
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _terminate(process, workdir):
    """The last resort (garbage collection, interpreter exit): no process or file is left behind."""
    _interrupt(process, 5.0)
    shutil.rmtree(workdir, ignore_errors=True)


def _tail(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as log:
            lines = log.read().splitlines()
    except OSError:
        return ""
    return "\n".join(lines[-_TAIL_LINES:])


def start(provider="novita", scenario=None, api_key=None, *, args=(), startup_timeout=20.0):
    """Starts the `emulator` command for `provider` on a free loopback port and returns once it
    answers HTTP.

    - `provider`: a provider id (`novita`, `gptproto`, `modelslab`...); the command refuses one it
      does not know (`emulator --help` lists them).
    - `scenario`: `None`, a built-in scenario's name (`happy`, `slow-queue`, `job-fails`,
      `rate-limited`, ... as `conformance client` runs them; `scenarios()` lists them), a dict
      (an emulator scenario: latency, modes, faults, defects, TTLs) or a scenario file's path.
    - `api_key`: the one key it accepts (default: a fresh random one, in `Emulator.api_key`).
    - `args`: more `emulator` flags, e.g. `["--latency-ms", "200"]`.

    Raises `EmulatorError` when it exits or does not answer within `startup_timeout` seconds.
    """
    if not isinstance(provider, str) or not provider:
        raise ValueError(f"provider must be a provider id such as 'novita', not {provider!r}")
    key = api_key if api_key is not None else "sk-emulator-" + secrets.token_hex(12)
    workdir = tempfile.mkdtemp(prefix="img2img-emulator-")
    try:
        flags = ["--provider", provider, "--host", "127.0.0.1", "--api-key", key]
        if scenario is not None:
            kind, value = emulator_scenario(scenario)
            if kind == "json":
                path = os.path.join(workdir, "scenario.json")
                with open(path, "w", encoding="utf-8") as file:
                    file.write(value)
                value = path
            flags += ["--scenario", value]
        flags += [str(arg) for arg in args]
        executable = command("emulator")
        for _ in range(_PORT_TRIES):
            emulator = _launch(executable, provider, flags, key, workdir, startup_timeout)
            if isinstance(emulator, Emulator):
                return emulator
        raise EmulatorError(
            f"the emulator could not listen on a free loopback port in {_PORT_TRIES} tries:\n{emulator}"
        )
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise


def _launch(executable, provider, flags, key, workdir, startup_timeout):
    """One try on a free port: the running Emulator, or its last output when it could not listen
    (another process can take the port between our check and its bind)."""
    port = _free_port()
    log_path = os.path.join(workdir, "emulator.log")
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [executable, *flags, "--port", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "NO_COLOR": "1"},  # plain lines in the log
        )
    deadline = time.monotonic() + startup_timeout
    while True:
        code = process.poll()
        if code is not None:
            tail = _tail(log_path)
            if code == _CANNOT_LISTEN:
                return tail
            raise EmulatorError(
                f"the emulator for {provider!r} exited with status {code} before answering:\n{tail}"
            )
        if _answers(port, timeout=1.0):
            return Emulator(provider, f"http://127.0.0.1:{port}", key, process, workdir, log_path)
        if time.monotonic() > deadline:
            _interrupt(process, 5.0)
            raise EmulatorError(
                f"the emulator for {provider!r} did not answer on port {port} within "
                f"{startup_timeout} s:\n{_tail(log_path)}"
            )
        time.sleep(0.02)
