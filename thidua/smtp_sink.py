"""The rehearsal's SMTP server, in a process of its own so that receiving the year's mail runs
on another core than sending it: `python -m thidua.smtp_sink PORT` prints "ready", accepts every
message, and when its standard input closes prints how many it received and exits."""

import sys

from aiosmtpd.controller import Controller


class Counter:
    def __init__(self):
        self.received = 0

    async def handle_DATA(self, server, session, envelope):
        self.received += 1
        return "250 OK"


def main(port: int) -> None:
    counter = Counter()
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        sys.stdin.read()  # until the rehearsal is done
    finally:
        controller.stop()
    print(counter.received, flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]))
