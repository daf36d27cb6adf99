"""Files the app owns (the thumbnail store).  No Qt, no SQL."""
