"""The project's NLU layer: its spaCy pipeline and custom Rasa components."""
