"""Pure booking helpers: check names, phones, e-mails and preferred times.

No Rasa imports and no user-facing text: every check returns a value or a
``Reason`` code, and the chat layer maps codes to domain responses.
"""
