"""Placeholder: being written."""
NAME = "slac2009"
LOOKS_FOR = ""


def recognise(document):
    return False


def parse(document, context):
    raise NotImplementedError
