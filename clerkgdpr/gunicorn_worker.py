"""gunicorn's sync worker, woken alone for a new connection.

Every sync worker waits for the next connection on the one listening socket shared by all
of them. gunicorn's ``select()`` wakes them all for each connection; one accepts it and
the others go back to sleep having spent a system call round trip each: with three
workers on two cores that is a third of the server's own cost per tracking call. Here each
worker waits in an epoll of its own with the listening sockets registered
``EPOLLEXCLUSIVE``: the kernel wakes one waiting worker per connection. The signal pipe
(shutdown, reload) is registered as usual, so every worker still hears those.

Everything else (accepting, parsing, the WSGI call, timeouts) is gunicorn's. Where the
platform has no ``EPOLLEXCLUSIVE`` (not Linux 4.5 or later), gunicorn's own wait is used.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select

from gunicorn.workers.sync import StopWaiting, SyncWorker

EXCLUSIVE = getattr(select, "EPOLLEXCLUSIVE", 0)


class ExclusiveSyncWorker(SyncWorker):
    _poller = None

    def run(self):
        # After gunicorn's process setup (the signal pipe exists), before the first wait.
        if EXCLUSIVE:
            self._poller = select.epoll()
            self._listeners = {listener.fileno(): listener for listener in self.sockets}
            for fd in self._listeners:
                self._poller.register(fd, select.EPOLLIN | EXCLUSIVE)
            self._poller.register(self.PIPE[0], select.EPOLLIN)
        super().run()

    def wait(self, timeout):
        if self._poller is None:
            return super().wait(timeout)
        self.notify()
        try:
            events = self._poller.poll(timeout)  # retried by Python when a signal interrupts
        except OSError as e:
            if e.errno == errno.EBADF:
                if self.nr < 0:
                    return self.sockets
                raise StopWaiting from e
            raise
        ready = []
        for fd, _ in events:
            if fd == self.PIPE[0]:
                with contextlib.suppress(BlockingIOError):
                    os.read(fd, 1)
                ready.append(fd)
            else:
                ready.append(self._listeners[fd])
        return ready
