"""A local mail catcher: a real SMTP server (aiosmtpd) on 127.0.0.1:2525 that stores every message it
receives in a Maildir under $BACKBONE_HOME/mail, so the main job's e-mails can be read like any mailbox."""

from __future__ import annotations

import mailbox
import sys
import time

from devtools.local.kafka import LocalRuntimeError
from devtools.local.paths import LocalPaths
from devtools.local.processes import ManagedProcess

SMTP_PORT = 2525


class LocalMail:
    def __init__(self, paths: LocalPaths, *, port: int = SMTP_PORT) -> None:
        self.paths = paths
        self.port = port
        self.maildir = paths.home / "mail"
        self.process = ManagedProcess("mail", paths.pid_file("mail"), marker=f"127.0.0.1:{port}")

    def start(self) -> str:
        if self.process.pid() is not None:
            return f"Mail catcher: already running on 127.0.0.1:{self.port}"
        mailbox.Maildir(self.maildir, create=True)
        handle = self.process.start(
            [
                sys.executable,
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                f"127.0.0.1:{self.port}",
                "-c",
                "aiosmtpd.handlers.Mailbox",
                str(self.maildir),
            ],
            log_file=self.paths.log_file("mail"),
        )
        time.sleep(0.5)
        if handle.poll() is not None:
            raise LocalRuntimeError(f"the mail catcher exited; see {self.paths.log_file('mail')}")
        return f"Mail catcher (SMTP): started on 127.0.0.1:{self.port}, messages in {self.maildir}"

    def stop(self) -> str:
        return "Mail catcher: stopped" if self.process.stop(timeout=10) else "Mail catcher: was not running"

    def status(self) -> str:
        pid = self.process.pid()
        return f"Mail catcher: running (pid {pid}) on 127.0.0.1:{self.port}" if pid else "Mail catcher: stopped"

    def messages(self) -> list[mailbox.MaildirMessage]:
        return list(mailbox.Maildir(self.maildir, create=True))

    def names(self) -> set[str]:
        """The messages' keys (file names), listed without reading them: what is there now."""
        return set(mailbox.Maildir(self.maildir, create=True).keys())

    def arrived(self, besides: set[str]) -> list[mailbox.MaildirMessage]:
        """The messages that are not among `besides`, read alone: a kept mailbox may hold a hundred thousand."""
        box = mailbox.Maildir(self.maildir, create=True)
        return [box[key] for key in set(box.keys()) - besides]
