"""Pub/sub commands with redis-py's signatures, and ``pubsub()``.

PUBLISH/SPUBLISH return the number of receivers; PUBSUB NUMSUB and
SHARDNUMSUB come back as lists of (channel, count) tuples through the
callbacks, as redis-py returns them. ``pubsub(**kwargs)`` builds a
``minikv.pubsub.PubSub`` on this client's store; besides redis-py's
arguments it takes ``output_buffer_limit`` (bytes, default 32 MB).
"""
from minikv.pubsub import PubSub


class PubSubCommands:
    __slots__ = ()

    def pubsub(self, **kwargs):
        """A PubSub object: subscribe to channels and patterns, read messages."""
        return PubSub(self, **kwargs)

    def publish(self, channel, message, **kwargs):
        """Publish ``message`` on ``channel``; returns the number of receivers."""
        return self.execute_command("PUBLISH", channel, message, **kwargs)

    def spublish(self, shard_channel, message):
        return self.execute_command("SPUBLISH", shard_channel, message)

    def pubsub_channels(self, pattern="*", **kwargs):
        return self.execute_command("PUBSUB CHANNELS", pattern, **kwargs)

    def pubsub_shardchannels(self, pattern="*", **kwargs):
        return self.execute_command("PUBSUB SHARDCHANNELS", pattern, **kwargs)

    def pubsub_numpat(self, **kwargs):
        return self.execute_command("PUBSUB NUMPAT", **kwargs)

    def pubsub_numsub(self, *args, **kwargs):
        return self.execute_command("PUBSUB NUMSUB", *args, **kwargs)

    def pubsub_shardnumsub(self, *args, **kwargs):
        return self.execute_command("PUBSUB SHARDNUMSUB", *args, **kwargs)
