"""The REST versions of the stores, over one httpx client, plus the offline spool."""
