"""The staff console's logic: accounts, the conversation index, exports, retention.

The web routes (``clinic/web/routes/staff*.py``) and the command line
(``python -m clinic``) both call into here; nothing here knows about HTTP.
"""
