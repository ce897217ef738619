"""HTML pages for people: templates in service/templates, CSS and JS in service/static."""
