"""Lab-wide defaults, written when the lab was created. Edit them freely."""

LAB_NAME = {{ cookiecutter.lab_name | tojson }}
BASE_MODEL = {{ cookiecutter.base_model | tojson }}
TEMPLATE_VERSION = {{ cookiecutter._template_version | tojson }}  # the embed-lab that made this lab
