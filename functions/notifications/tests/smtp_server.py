"""A real SMTP server for the notifications tests: aiosmtpd on 127.0.0.1:PORT, each message it
accepts written to DIR as one .eml file (written whole, then renamed into place). Recipients at
refused.example are refused for good (550), as a mail server refuses an unknown mailbox.

Usage: python smtp_server.py PORT DIR   (prints "ready" once it listens)
"""

import asyncio
import os
import sys
import uuid

from aiosmtpd.smtp import SMTP


class Handler:
    def __init__(self, out):
        self.out = out

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower().endswith("@refused.example"):
            return "550 5.1.1 <%s>: no such mailbox" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        name = os.path.join(self.out, uuid.uuid4().hex)
        with open(name + ".tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(name + ".tmp", name + ".eml")
        return "250 Message accepted for delivery"


async def main(port, out):
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(Handler(out)), "127.0.0.1", port)
    print("ready", flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
