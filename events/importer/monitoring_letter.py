"""Placeholder: being written."""
NAME = "monitoring_letter"
LOOKS_FOR = ""


def recognise(document):
    return False


def parse(document, context):
    raise NotImplementedError
