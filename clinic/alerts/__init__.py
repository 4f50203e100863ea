"""Staff alerts: an e-mail to clinic.yml's ``staff_alerts`` for each new booking request,
call-back request and red-flag conversation, sent from an outbox table by the web app.

- ``smtp``: ``SMTP_URL`` parsed and checked; one message sent with smtplib.
- ``outbox``: the ``staff_alerts`` rows, added in the transaction that records the item.
- ``message``: the e-mail: kind, reference, time and console link, nothing else.
- ``sender``: sends what is due, with retries and backoff (``AlertSender.run_once``).
"""
