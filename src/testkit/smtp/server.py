# A local SMTP server for belay's email tests, on aiosmtpd (make smtp-tools
# installs it, pinned, into .tools/smtp-venv). Listens on 127.0.0.1:PORT,
# optionally asks for AUTH (PLAIN/LOGIN, without TLS: loopback only) with one
# user, and writes every message it accepts to DIR/<time>-<n>.eml, the
# envelope first as X-Envelope-From/X-Envelope-To lines. Prints "ready" once
# it accepts connections; stops when its standard input closes.
import argparse
import os
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Mailbox:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        path = os.path.join(self.directory, f"{time.time_ns()}-{self.count}.eml")
        head = f"X-Envelope-From: {envelope.mail_from}\r\nX-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n".encode()
        with open(path + ".tmp", "wb") as f:
            f.write(head + (envelope.original_content or envelope.content))
        os.rename(path + ".tmp", path)
        return "250 Message accepted"


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password:
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    return check


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--user")
    p.add_argument("--password")
    a = p.parse_args()
    kwargs = {}
    if a.user:
        kwargs = {"authenticator": authenticator(a.user, a.password or ""), "auth_required": True, "auth_require_tls": False}
    controller = Controller(Mailbox(a.dir), hostname="127.0.0.1", port=a.port, **kwargs)
    controller.start()
    print("ready", flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
