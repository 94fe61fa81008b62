"""A real Debian mosquitto broker on a free loopback port, started and stopped by the tests."""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.tls import TlsFiles

MOSQUITTO_PATHS = ("mosquitto", "/usr/sbin/mosquitto")
#: The username and password the TLS broker of the tests (`mqtt_tls_broker`) knows.
BROKER_USER = ("lane-3701-120", "s3cret-passw0rd")


def find_mosquitto() -> str | None:
    """Path of the mosquitto binary, or None when it is not installed."""
    for candidate in MOSQUITTO_PATHS:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Broker:
    """A running mosquitto; `stop()` and `start()` again on the same port simulate an outage."""

    binary: str
    workdir: Path
    port: int
    process: subprocess.Popen[bytes] | None = None
    #: TLS on the listener, with client certificates required (signed by the test CA)
    tls: TlsFiles | None = None
    #: username -> password; when given, anonymous clients are refused
    users: dict[str, str] = field(default_factory=dict)
    #: keep sessions and queued messages on disk (saved at every change), so a broker killed
    #: and started again still holds what it acknowledged (as far as mosquitto saves it)
    persistent: bool = False

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def client_options(self) -> dict[str, Any]:
        """The aiomqtt.Client options a station needs to get in: TLS with a client certificate
        of the test CA, and the first user's name and password."""
        options: dict[str, Any] = {}
        if self.tls is not None:
            context = ssl.create_default_context(cafile=str(self.tls.ca))
            context.load_cert_chain(str(self.tls.client_cert), str(self.tls.client_key))
            options["tls_context"] = context
        if self.users:
            options["username"], options["password"] = next(iter(self.users.items()))
        return options

    def _settings(self) -> str:
        lines = [f"listener {self.port} 127.0.0.1", "log_dest stderr",
                 "max_queued_messages 100000"]
        if self.persistent:
            lines += ["persistence true", f"persistence_location {self.workdir}/",
                      "autosave_interval 1", "autosave_on_changes true"]
        else:
            lines.append("persistence false")
        if os.geteuid() == 0:
            lines.append("user root")  # keep reading the test's private files
        if self.users:
            passwords = self.workdir / "mosquitto.passwd"
            passwords.unlink(missing_ok=True)
            for name, password in self.users.items():
                subprocess.run(["mosquitto_passwd", "-b", *(["-c"] if not passwords.exists()
                                else []), str(passwords), name, password], check=True,
                               capture_output=True)
            lines += ["allow_anonymous false", f"password_file {passwords}"]
        else:
            lines.append("allow_anonymous true")
        if self.tls is not None:
            lines += [f"cafile {self.tls.ca}", f"certfile {self.tls.server_cert}",
                      f"keyfile {self.tls.server_key}", "require_certificate true"]
        return "\n".join(lines) + "\n"

    def start(self) -> None:
        config = self.workdir / "mosquitto.conf"
        config.write_text(self._settings(), encoding="utf-8")
        log = (self.workdir / "mosquitto.log").open("ab")
        self.process = subprocess.Popen(
            [self.binary, "-c", str(config)], stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log_path = self.workdir / "mosquitto.log"
                raise RuntimeError(f"mosquitto exited at start-up; see {log_path}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return  # a TLS listener accepts the TCP connection too
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not listen on port {self.port} within 10 s")

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
