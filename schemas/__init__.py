"""Contracts shared by every service: the event envelope, event types, topics and vocabulary.

Nothing here does I/O or imports a broker; a service depends on `schemas` and on the runtime kit
(`backbone`), never on another service.
"""
