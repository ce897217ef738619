"""Placeholder: being written."""
NAME = "ilacs"
LOOKS_FOR = ""


def recognise(document):
    return False


def parse(document, context):
    raise NotImplementedError
