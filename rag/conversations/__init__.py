"""The app's lasting conversations and feedback, and answers stored as JSON."""
