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
    'sphinxcontrib.plantuml',
    'os_api_ref',
]

# Diagrams are drawn at build time from sources in the tree: Graphviz's dot
# and PlantUML (Debian packages graphviz and plantuml, installed by
# tools/install-deps.sh).
graphviz_output_format = 'svg'
plantuml = 'plantuml'
plantuml_output_format = 'svg_img'

openstackdocs_repo_name = 'tacker-vimmon/tacker-vimmon'
openstackdocs_use_storyboard = False
openstackdocs_auto_name = False

project = 'tacker-vimmon'
copyright = '2026, The tacker-vimmon Authors'
master_doc = 'index'
exclude_patterns = ['_build']
pygments_style = 'native'
html_theme = 'openstackdocs'
