def actor_name(actor) -> str:
    """Normalise an actor (a user, a string or None) to the name stored in audit rows."""
    if actor is None:
        return "system"
    if isinstance(actor, str):
        return actor or "system"
    if getattr(actor, "is_authenticated", False):
        return actor.get_username()
    return "system"
