# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""Sphinx configuration of tacker-vimmon's documentation."""

extensions = [
    'openstackdocstheme',
    'oslo_config.sphinxext',
    'oslo_policy.sphinxext',
    'sphinx.ext.graphviz',
]

# Diagrams are drawn by Graphviz's dot (Debian package graphviz, installed
# by tools/install-deps.sh).
graphviz_output_format = 'svg'

openstackdocs_repo_name = 'tacker-vimmon/tacker-vimmon'
openstackdocs_use_storyboard = False
openstackdocs_auto_name = False

project = 'tacker-vimmon'
copyright = '2026, The tacker-vimmon Authors'
master_doc = 'index'
exclude_patterns = ['_build']
pygments_style = 'native'
html_theme = 'openstackdocs'
