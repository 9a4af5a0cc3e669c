# lab tools: the demo's request/response service and client
$(BUILD)/tools/labsvc: tools/lab/labsvc.c | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@ $(LDFLAGS)

TOOL_BINS += $(BUILD)/tools/labsvc
