"""What the bloc's office does, shared by the flows, the portal and the commands: take a
submission (`intake`), close the year (`closing`), write the year-end documents
(`year_end_documents`)."""
