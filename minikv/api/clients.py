"""CLIENT commands about the connection itself, with redis-py's signatures.

A minikv client is one connection (a session), so the name set here is
this client's, as CLIENT SETNAME names one connection in Redis; a
pipeline runs on a session of its own. Replies go through redis-py's
callbacks: SETNAME -> True, GETNAME -> str or None, INFO -> dict.
"""


class ClientCommands:
    __slots__ = ()

    def client_setname(self, name, **kwargs):
        return self.execute_command("CLIENT SETNAME", name, **kwargs)

    def client_getname(self, **kwargs):
        return self.execute_command("CLIENT GETNAME", **kwargs)

    def client_id(self, **kwargs):
        return self.execute_command("CLIENT ID", **kwargs)

    def client_info(self, **kwargs):
        return self.execute_command("CLIENT INFO", **kwargs)
