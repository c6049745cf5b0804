#!/usr/bin/env python
import os
import sys

# Commands that never touch a database server.
OFFLINE = {"makemigrations", "help", "--help", "-h", "version", "--version", "check"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clerkgdpr.settings")
    from clerkgdpr.runtime import check_database, ensure_services

    command = sys.argv[1] if len(sys.argv) > 1 else "help"
    if command not in OFFLINE:
        # Without DATABASE_URL / REDIS_URL, attach to (or start) the embedded servers under var/;
        # with them, fail with one readable line if PostgreSQL cannot be reached.
        ensure_services()
        check_database(os.environ["DATABASE_URL"])
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
