"""The HTTP app: calendar feeds now; the submission portal and API will join it."""
