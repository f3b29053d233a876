"""What operators run and read: logs, metrics, backups."""
