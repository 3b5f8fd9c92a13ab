// The response model of every OnsMqtt 2020-04-20 operation Sluice implements, as the
// cloud's generated SDKs declare it (field names and JSON types; [x] is an array of x,
// {..} an object). Taken from the response-body models of the cloud's OnsMqtt 2020-04-20
// SDK (alibabacloud-go/onsmqtt-20200420, client/client.go, commit ee1b148), which the
// Java / Python / TypeScript SDKs share (they are generated from one API description).
// Certificate operations (issue 18) and the cloud's disaster-recovery and SNI
// operations are not here: Sluice does not implement them in this change.
export const MODELS = {
  AddCustomAuthConnectBlack: {"Code": "integer", "Message": "string", "RequestId": "string", "Success": "boolean"},
  AddCustomAuthIdentity: {"Code": "integer", "Message": "string", "RequestId": "string", "Success": "boolean"},
  AddCustomAuthPermission: {"Code": "integer", "Message": "string", "RequestId": "string", "Success": "boolean"},
  ApplyToken: {"RequestId": "string", "Token": "string"},
  BatchQuerySessionByClientIds: {"OnlineStatusList": [{"ClientId": "string", "OnlineStatus": "boolean"}], "RequestId": "string"},
  CloseConnection: {"Code": "integer", "Message": "string", "RequestId": "string", "Success": "boolean"},
  CreateGroupId: {"RequestId": "string"},
  DeleteCustomAuthConnectBlack: {"Code": "integer", "Message": "string", "RequestId": "string", "Success": "boolean"},
  DeleteCustomAuthIdentity: {"Code": "integer", "Message": "string", "RequestId": "string", "Success": "boolean"},
  DeleteCustomAuthPermission: {"Code": "integer", "Message": "string", "RequestId": "string", "Success": "boolean"},
  DeleteGroupId: {"RequestId": "string"},
  GetDeviceCredential: {"DeviceCredential": {"ClientId": "string", "CreateTime": "integer", "DeviceAccessKeyId": "string", "DeviceAccessKeySecret": "string", "InstanceId": "string", "UpdateTime": "integer"}, "RequestId": "string"},
  ListDeviceCredentialClientId: {"DeviceCredentialClientIdList": {"ClientIdList": ["string"], "NextToken": "string", "PageNo": "string", "PageSize": "string", "Total": "string"}, "RequestId": "string"},
  ListGroupId: {"Data": [{"CreateTime": "integer", "GroupId": "string", "IndependentNaming": "boolean", "InstanceId": "string", "Tags": [{"TagKey": "string", "TagValue": "string"}], "UpdateTime": "integer"}], "RequestId": "string"},
  ListInstances: {"Code": "string", "Instances": [{"CreateTime": "integer", "ExpireTime": "integer", "InstanceId": "string", "InstanceName": "string", "InstanceStatus": "integer", "InstanceType": "integer", "KernelVersion": "string", "MqttTags": [{"TagKey": "string", "TagValue": "string"}], "OrderId": "string", "RegionId": "string", "Specific": "string"}], "Message": "string", "RequestId": "string", "Success": "string"},
  ListTagResources: {"Code": "string", "Message": "string", "NextToken": "string", "RequestId": "string", "Success": "string", "TagResources": [{"ResourceId": "string", "ResourceType": "string", "TagKey": "string", "TagValue": "string"}]},
  QueryCustomAuthConnectBlack: {"Code": "integer", "Data": {"NextToken": "string", "Results": [{"ClientId": "string", "Effect": "string", "PermitAction": "string"}]}, "Message": "string", "RequestId": "string", "Success": "boolean"},
  QueryCustomAuthIdentity: {"Code": "integer", "Data": {"NextToken": "string", "Results": [{"ClientId": "string", "IdentityType": "string", "Secret": "string", "SignMode": "string", "Username": "string"}]}, "Message": "string", "RequestId": "string", "Success": "boolean"},
  QueryCustomAuthPermission: {"Code": "integer", "Data": {"NextToken": "string", "Results": [{"Effect": "string", "Identity": "string", "IdentityType": "string", "PermitAction": "string", "Topic": "string"}]}, "Message": "string", "RequestId": "string", "Success": "boolean"},
  QueryMqttTraceDevice: {"CurrentPage": "integer", "DeviceInfoList": [{"Action": "string", "ActionCode": "string", "ActionInfo": "string", "ChannelId": "string", "Time": "string"}], "PageSize": "integer", "RequestId": "string", "Total": "integer"},
  QueryMqttTraceMessageOfClient: {"CurrentPage": "integer", "MessageOfClientList": [{"Action": "string", "ActionCode": "string", "ActionInfo": "string", "ClientId": "string", "MsgId": "string", "Time": "string"}], "PageSize": "integer", "RequestId": "string", "Total": "integer"},
  QueryMqttTraceMessagePublish: {"MessageTraceLists": [{"Action": "string", "ActionCode": "string", "ActionInfo": "string", "ClientId": "string", "MsgId": "string", "Time": "string"}], "RequestId": "string"},
  QueryMqttTraceMessageSubscribe: {"CurrentPage": "integer", "MessageTraceLists": [{"Action": "string", "ActionCode": "string", "ActionInfo": "string", "ClientId": "string", "MsgId": "string", "Time": "string"}], "PageSize": "integer", "RequestId": "string", "Total": "integer"},
  QuerySessionByClientId: {"OnlineStatus": "boolean", "RequestId": "string"},
  QueryToken: {"RequestId": "string", "TokenStatus": "boolean"},
  RefreshDeviceCredential: {"DeviceCredential": {"ClientId": "string", "CreateTime": "integer", "DeviceAccessKeyId": "string", "DeviceAccessKeySecret": "string", "InstanceId": "string", "UpdateTime": "integer"}, "RequestId": "string"},
  RegisterDeviceCredential: {"DeviceCredential": {"ClientId": "string", "CreateTime": "integer", "DeviceAccessKeyId": "string", "DeviceAccessKeySecret": "string", "InstanceId": "string", "UpdateTime": "integer"}, "RequestId": "string"},
  RevokeToken: {"RequestId": "string"},
  SendMessage: {"MsgId": "string", "RequestId": "string"},
  TagResources: {"Code": "string", "Data": "boolean", "Message": "string", "RequestId": "string"},
  UnRegisterDeviceCredential: {"RequestId": "string"},
  UntagResources: {"Code": "string", "Data": "boolean", "Message": "string", "RequestId": "string"},
  UpdateCustomAuthIdentity: {"Code": "integer", "Message": "string", "RequestId": "string", "Success": "boolean"},
  UpdateCustomAuthPermission: {"Code": "integer", "Message": "string", "RequestId": "string", "Success": "boolean"},
};
