"""Server and connection commands with redis-py's signatures.

Each method sends what redis-py sends, so replies go through the same
callbacks (``PING`` -> True, ``TIME`` -> (seconds, microseconds), ``INFO`` ->
dict, ``CONFIG GET`` -> dict of str). ``select`` changes the database of
this client only, as SELECT on one connection does in Redis.
"""


class ServerCommands:
    __slots__ = ()

    def ping(self, **kwargs):
        return self.execute_command("PING", **kwargs)

    def echo(self, value, **kwargs):
        return self.execute_command("ECHO", value, **kwargs)

    def time(self, **kwargs):
        return self.execute_command("TIME", **kwargs)

    def dbsize(self, **kwargs):
        return self.execute_command("DBSIZE", **kwargs)

    def select(self, index, **kwargs):
        return self.execute_command("SELECT", index, **kwargs)

    def swapdb(self, first, second, **kwargs):
        return self.execute_command("SWAPDB", first, second, **kwargs)

    def flushdb(self, asynchronous=False, **kwargs):
        args = [b"ASYNC"] if asynchronous else []
        return self.execute_command("FLUSHDB", *args, **kwargs)

    def flushall(self, asynchronous=False, **kwargs):
        args = [b"ASYNC"] if asynchronous else []
        return self.execute_command("FLUSHALL", *args, **kwargs)

    def info(self, section=None, *args, **kwargs):
        if section is None:
            return self.execute_command("INFO", **kwargs)
        return self.execute_command("INFO", section, *args, **kwargs)

    def config_get(self, pattern="*", *args, **kwargs):
        return self.execute_command("CONFIG GET", pattern, *args, **kwargs)

    def config_set(self, name, value, *args, **kwargs):
        return self.execute_command("CONFIG SET", name, value, *args, **kwargs)

    def config_resetstat(self, **kwargs):
        return self.execute_command("CONFIG RESETSTAT", **kwargs)

    def memory_usage(self, key, samples=None, **kwargs):
        args = []
        if isinstance(samples, int):
            args.extend([b"SAMPLES", samples])
        return self.execute_command("MEMORY USAGE", key, *args, **kwargs)
