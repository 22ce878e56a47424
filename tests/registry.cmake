# Registries, typed values, YAML configs and the list/info commands.
terracl_add_test(test_value SOURCES test_value.c test_common.c LABELS unit)
terracl_add_test(test_registry SOURCES test_registry.c test_common.c LABELS unit)
terracl_add_test(test_yaml SOURCES test_yaml.c test_common.c LABELS unit)
terracl_add_test(test_config_limits SOURCES test_config_limits.c test_common.c LABELS unit)
# The list/info commands' code is compiled in, so the test can register its
# own components and check what the commands print.
terracl_add_test(test_registry_cli
  SOURCES test_registry_cli.c test_common.c ${PROJECT_SOURCE_DIR}/src/cli/cmd_list.c
          ${PROJECT_SOURCE_DIR}/src/cli/cmd_info.c ${PROJECT_SOURCE_DIR}/src/cli/help.c
  LABELS unit)

# The installed command: exit statuses of list/info (0 ok, 1 unknown name, 2 usage).
add_test(NAME cli_list_info_status
  COMMAND sh -c "\"$0\" list >/dev/null && \"$0\" list backbones >/dev/null && \"$0\" list backbone >/dev/null && \
{ \"$0\" list nonsense 2>/dev/null; test $? -eq 1; } && \
{ \"$0\" info backbone no_such_backbone 2>/dev/null; test $? -eq 1; } && \
{ \"$0\" info gizmo x 2>/dev/null; test $? -eq 1; } && \
{ \"$0\" info backbone 2>/dev/null; test $? -eq 2; }" $<TARGET_FILE:terracl_cli>)
set_tests_properties(cli_list_info_status PROPERTIES LABELS unit)
