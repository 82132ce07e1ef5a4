"""The edge: the one subprocess runner, git, AWS clients and the emulator, PostgreSQL connections and servers.

Adapters talk to the outside world and decide no policy; the layers above them do."""
