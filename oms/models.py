from django.db import models


class NumberSequence(models.Model):
    """Counter behind human-readable numbers on databases without sequences (SQLite).

    On PostgreSQL numbers come from real sequences (see ``oms.numbering``), which never
    block concurrent transactions.
    """

    name = models.CharField(max_length=32, primary_key=True)
    last_value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}={self.last_value}"
